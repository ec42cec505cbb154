/**
 * A model worker process of `pnpm bench models`: the llm pools of one swarm of a topology (its
 * `providers:` point at the benchmark's fake vendors, its `prices:` price their models), run
 * until told to stop, as `swarm run` runs them.
 */
import { fileURLToPath } from 'node:url';
import { parseTopology, RedisBus } from '@swarm/core';
import { WorkerPool } from '@swarm/worker';
import { env, exitWithParent, fail, onEach, onMessage, send, sendThenExit } from './ipc';
import { profileIfAsked } from './models-profile';

exitWithParent();
const saveProfile = await profileIfAsked('models-pool');
const swarm = env('BENCH_SWARM');
// The fake key comes in as ${BENCH_FAKE_KEY}, interpolated from the environment as a user's would be.
const { topology, dir } = parseTopology(env('BENCH_TOPOLOGY'), fileURLToPath(import.meta.url), {
  offline: true,
});
const spec = topology.swarms[swarm];
if (!spec) throw new Error(`the topology has no swarm ${swarm}`);
const bus = new RedisBus({ url: env('BENCH_REDIS_URL') });
const models = {
  providers: topology.providers,
  prices: topology.prices,
  ...(spec.budget ? { swarmBudget: spec.budget } : {}),
};
const pools = spec.workers.map((pool) => new WorkerPool({ bus, swarm, spec: pool, baseDir: dir, models }));
for (const pool of pools) pool.start();

// CPU milliseconds this process has used so far: the benchmark takes the difference over a phase.
onEach('cpu', () => {
  const { user, system } = process.cpuUsage();
  send({ type: 'cpu', ms: (user + system) / 1_000 });
});

onMessage('stop', () => {
  Promise.all(pools.map((pool) => pool.stop()))
    .then(() => bus.close())
    .then(saveProfile)
    .then(() => {
      const stats = pools.map((pool) => pool.stats);
      const sum = (key: 'completed' | 'failed' | 'deferred') => stats.reduce((n, s) => n + s[key], 0);
      sendThenExit({
        type: 'stopped',
        completed: sum('completed'),
        failed: sum('failed'),
        deferred: sum('deferred'),
      });
    }, fail);
});

Promise.all(pools.map((pool) => pool.ready)).then(() => send({ type: 'ready' }), fail);
