/** Throughput worker for swarm: completes every no-op task of one swarm until told to stop. */
import { RedisBus } from '@swarm/core';
import { env, exitWithParent, fail, intEnv, onEach, onMessage, send, sendThenExit } from './ipc';

exitWithParent();
const swarm = env('BENCH_SWARM');
const bus = new RedisBus({ url: env('BENCH_REDIS_URL') });
let completed = 0;
let failed = 0;
// The cluster bench's partitioned rounds: this process reads every partition, one consumer each.
const partitions = process.env.BENCH_PARTITIONS ? { partitions: intEnv('BENCH_PARTITIONS') } : {};

const subscription = bus
  .consume(swarm, env('BENCH_TYPE'), {
    concurrency: intEnv('BENCH_CONCURRENCY'),
    leaseMs: 30_000,
    ...partitions,
  })
  .subscribe({
    next: (delivery) => {
      delivery.complete({ summary: 'ok' }).then(
        () => {
          completed++;
        },
        (error: unknown) => {
          failed++;
          process.stderr.write(`complete failed: ${String(error)}\n`);
        },
      );
    },
    error: fail,
  });

// The cluster bench charges each task its share of every process's CPU time.
onEach('cpu', () => send({ type: 'cpu', ...process.cpuUsage() }));

onMessage('stop', () => {
  subscription.unsubscribe();
  bus
    .drain()
    .then(() => bus.close())
    .then(() => sendThenExit({ type: 'stopped', completed, failed }), fail);
});

bus
  .redis()
  .then((redis) => redis.ping())
  .then(() => send({ type: 'ready' }), fail);
