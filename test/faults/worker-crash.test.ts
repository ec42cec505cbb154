import { RedisBus } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { FIXTURES, ledger, openTasks, postTasks, report, UNDER_LOAD, Workers } from './support';

/**
 * Issue #5: 10,000 tasks through 4 real `swarm worker` processes; two are SIGKILLed at random
 * moments mid-run and replaced. Every task must end with exactly one finding, none stuck.
 */
describe('worker processes killed mid-run', () => {
  const redis = useRedisServer();

  it('10,000 tasks, 4 workers, 2 SIGKILLed and restarted: one finding each, none lost, none stuck', async () => {
    const swarm = 'crash';
    const TOTAL = 10_000;
    const bus = new RedisBus({ url: redis.url });
    const workers = new Workers(redis.url, swarm, 'work', [
      '--handler',
      `${FIXTURES}/handlers.mjs#work`,
      '--concurrency',
      '16',
      '--lease-ms',
      '2000',
    ]);
    try {
      const ids = await postTasks(bus, swarm, 'work', TOTAL);
      const started = Date.now();
      const [first, second] = workers.start(4);
      const done = async () => (await bus.status(swarm)).findings;
      // Two kills at random points between 10% and 80% of the run.
      const at = [0.1 + Math.random() * 0.3, 0.45 + Math.random() * 0.35].map((f) => Math.floor(f * TOTAL));
      const killedAt: number[] = [];
      for (const [k, victim] of [first, second].entries()) {
        await until(
          async () => (await done()) >= (at[k] as number),
          () => `${at[k]} findings`,
          UNDER_LOAD,
        );
        killedAt.push(await done());
        expect(await workers.kill(victim as NonNullable<typeof victim>)).toBe(null);
        workers.start(1);
      }
      const lastKill = Date.now();
      await until(
        async () => (await openTasks(bus, swarm)) === 0 && (await done()) >= TOTAL,
        () => `all ${TOTAL} tasks settled`,
        UNDER_LOAD,
      );
      const result = await ledger(bus, swarm, ids);
      report('worker crash', {
        ...result,
        killedAtFindings: killedAt.join('/'),
        recoverMs: Date.now() - lastKill,
        totalMs: Date.now() - started,
      });
      expect(result).toEqual({
        tasks: TOTAL,
        findings: TOTAL,
        duplicates: 0,
        lost: 0,
        deadLetters: 0,
        open: 0,
      });
    } finally {
      await workers.stopAll();
      await bus.close();
    }
  });
});
