/** Throughput worker for BullMQ: a no-op processor on one queue until told to stop. */
import { Worker } from 'bullmq';
import { bullmqConnection } from '../bullmq-connection';
import { env, exitWithParent, fail, intEnv, onMessage, send, sendThenExit } from './ipc';

exitWithParent();
let completed = 0;
let failed = 0;

const worker = new Worker(env('BENCH_QUEUE'), async () => undefined, {
  connection: bullmqConnection(env('BENCH_REDIS_URL')),
  concurrency: intEnv('BENCH_CONCURRENCY'),
});
worker.on('completed', () => {
  completed++;
});
worker.on('failed', (_job, error) => {
  failed++;
  process.stderr.write(`job failed: ${error.message}\n`);
});
worker.on('error', (error) => process.stderr.write(`bullmq worker error: ${error.message}\n`));

onMessage('stop', () => {
  worker.close().then(() => sendThenExit({ type: 'stopped', completed, failed }), fail);
});

worker.waitUntilReady().then(() => send({ type: 'ready' }), fail);
