import { setTimeout as sleep } from 'node:timers/promises';
import { type Finding, RedisBus } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { allFindings, FIXTURES, ledger, openTasks, report, UNDER_LOAD, Workers } from './support';

/**
 * Issue #5: Redis with appendonly SIGKILLed and restarted mid-run, while a poster posts, two
 * `swarm worker` processes work and a durable subscriber follows. With appendfsync always
 * nothing acknowledged is lost; with everysec the loss is bounded by about a second of writes.
 */
describe.each(['always', 'everysec'] as const)('Redis SIGKILLed mid-run (appendfsync %s)', (fsync) => {
  const redis = useRedisServer({ appendonly: fsync });

  it('resumes by itself; acknowledged posts and recorded findings survive as the fsync policy promises', async () => {
    const swarm = `restart-${fsync}`;
    const poster = new RedisBus({ url: redis.url });
    const watcher = new RedisBus({ url: redis.url });
    const workers = new Workers(redis.url, swarm, 'work', [
      '--handler',
      `${FIXTURES}/handlers.mjs#work`,
      '--concurrency',
      '8',
      '--lease-ms',
      '2000',
    ]);
    const acked: string[] = [];
    let unacked = 0;
    const seen: Finding[] = [];
    const subscription = watcher.follow({ swarms: [swarm], name: 'watcher' }).subscribe((f) => seen.push(f));
    let posting = true;
    try {
      workers.start(2);
      // Posts in batches of 50 until told to stop; a batch that errors is not acknowledged.
      const posterLoop = (async () => {
        for (let i = 0; posting; i += 50) {
          try {
            const posted = await poster.postBatch(
              swarm,
              'work',
              Array.from({ length: 50 }, (_, k) => ({ data: { i: i + k } })),
            );
            acked.push(...posted.map((p) => p.id));
          } catch {
            unacked += 50;
            await sleep(100);
          }
          await sleep(10);
        }
      })();
      await until(
        () => seen.length >= 2_000,
        () => `2,000 findings before the kill (${seen.length})`,
        UNDER_LOAD,
      );
      const seenBeforeKill = seen.map((f) => f.id);
      const ackedBeforeKill = acked.length;
      await redis.server.kill();
      await sleep(1_000);
      await redis.server.start();
      const restartedAt = Date.now();
      const countAtRestart = seen.length;
      const resumeMs = await until(
        () => seen.length > countAtRestart + 100,
        () => 'findings after the restart',
        60_000,
      );
      await sleep(2_000);
      posting = false;
      await posterLoop;
      const postedAllMs = Date.now() - restartedAt;
      await until(
        async () => (await openTasks(poster, swarm)) === 0,
        () => 'every task settled after the restart',
        UNDER_LOAD,
      );
      const settledTasksMs = Date.now() - restartedAt;
      const stored = await allFindings(poster, swarm);
      await until(
        () => seen.length >= stored.length,
        () => `the subscriber to catch up (${seen.length}/${stored.length})`,
        UNDER_LOAD,
      );
      await sleep(500);
      const result = await ledger(poster, swarm, acked);
      const storedIds = new Set(stored.map((f) => f.id));
      // Findings the subscriber saw before the kill that the restarted Redis no longer has.
      const findingsLost = seenBeforeKill.filter((id) => !storedIds.has(id)).length;
      const seenIds = seen.map((f) => f.id);
      const subscriberRepeats = seenIds.length - new Set(seenIds).size;
      const seenSet = new Set(seenIds);
      const subscriberGaps = stored.filter((f) => !seenSet.has(f.id)).length;
      report(`redis restart (appendfsync ${fsync})`, {
        ...result,
        ackedBeforeKill,
        unackedPosts: unacked,
        findingsLost,
        subscriberRepeats,
        subscriberGaps,
        resumeMs,
        postedAllMs,
        settledTasksMs,
        settledMs: Date.now() - restartedAt,
      });
      expect(subscriberGaps).toBe(0);
      expect(result.open).toBe(0);
      expect(result.deadLetters).toBe(0);
      if (fsync === 'always') {
        expect({ lost: result.lost, duplicates: result.duplicates, findingsLost, subscriberRepeats }).toEqual(
          {
            lost: 0,
            duplicates: 0,
            findingsLost: 0,
            subscriberRepeats: 0,
          },
        );
      } else {
        // everysec may drop the last second of writes: a few posts, a few completions (which
        // then run again). Bound it loosely by what a second of this run writes.
        const perSecond = ackedBeforeKill / Math.max(1, (restartedAt - 1_000 - 0) / 1_000);
        expect(result.duplicates).toBe(0);
        expect(result.lost + findingsLost).toBeLessThanOrEqual(Math.max(500, perSecond * 3));
      }
    } finally {
      subscription.unsubscribe();
      await workers.stopAll();
      await Promise.all([poster.close(), watcher.close()]);
    }
  });
});
