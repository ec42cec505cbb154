import { defineActor, workerPoolSchema } from '@swarm/core';
import type { ModelSettings } from './llm/llm-handler';
import { WorkerPool } from './pool';

/**
 * A worker pool as an actor: how a topology's `workers` entries run. `models` carries what the
 * topology says beyond the pool (providers, prices, the swarm's budget) to its llm handlers.
 */
export function workerPoolActorWith(models?: (swarm: string) => ModelSettings | undefined) {
  return defineActor({
    kind: 'worker-pool',
    config: workerPoolSchema,
    async start(ctx) {
      const settings = models?.(ctx.swarm);
      const pool = new WorkerPool({
        bus: ctx.bus,
        swarm: ctx.swarm,
        spec: ctx.config,
        baseDir: ctx.baseDir,
        logger: ctx.log,
        ...(settings ? { models: settings } : {}),
      });
      pool.start();
      // A pool whose handler cannot load fails the start instead of leaving its tasks unclaimed.
      await pool.ready;
      return { stop: () => pool.stop() };
    },
  });
}

export const workerPoolActor = workerPoolActorWith();
