import { defineActor, workerPoolSchema } from '@swarm/core';
import { WorkerPool } from './pool';

/** A worker pool as an actor: how a topology's `workers` entries run. */
export const workerPoolActor = defineActor({
  kind: 'worker-pool',
  config: workerPoolSchema,
  async start(ctx) {
    const pool = new WorkerPool({
      bus: ctx.bus,
      swarm: ctx.swarm,
      spec: ctx.config,
      baseDir: ctx.baseDir,
      logger: ctx.log,
    });
    pool.start();
    // A pool whose handler cannot load fails the start instead of leaving its tasks unclaimed.
    await pool.ready;
    return { stop: () => pool.stop() };
  },
});
