import { keys, RedisBus } from '@swarm/core';
import { mergeMap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

describe('RedisBus retention', () => {
  const redis = useRedisServer();
  let bus: RedisBus;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url, retention: { findings: { maxLen: 100 } } });
  });
  afterAll(async () => {
    await bus.close();
  });

  it('deletes acked tasks, so the task stream holds only waiting and running work', async () => {
    const n = 5_000;
    let completed = 0;
    const worker = bus
      .consume('kept', 'echo', { concurrency: 32 })
      .pipe(
        mergeMap(async (d) => {
          await d.complete({ summary: 'ok' });
          completed++;
        }),
      )
      .subscribe();
    for (let i = 0; i < n; i += 500) {
      await bus.postBatch(
        'kept',
        'echo',
        Array.from({ length: 500 }, (_, j) => ({ data: i + j })),
      );
    }
    await until(
      () => completed >= n,
      () => `${n} tasks completed (${completed} so far)`,
      20_000,
    );
    worker.unsubscribe();
    // Trimming frees whole stream nodes (at most 100 entries each), never a waiting task.
    expect(await (await bus.redis()).xlen(keys.tasks('kept', 'echo'))).toBeLessThanOrEqual(100);
    expect(await (await bus.redis()).xlen(keys.findings('kept'))).toBe(100);
    expect(await (await bus.redis()).xpending(keys.tasks('kept', 'echo'), 'workers')).toEqual([
      0,
      null,
      null,
      null,
    ]);
  });

  it('never trims a task that is waiting or running', async () => {
    await bus.postBatch(
      'busy',
      'echo',
      Array.from({ length: 300 }, (_, i) => ({ data: i })),
    );
    const held: string[] = [];
    let finished = 0;
    const worker = bus
      .consume('busy', 'echo', { concurrency: 250 })
      .pipe(
        mergeMap(async (d) => {
          // Hold every tenth task, complete the rest: completions trim around the held ones.
          if ((d.task.data as number) % 10 === 0) held.push(d.deliveryId);
          else await d.complete({ summary: 'ok' });
          finished++;
        }),
      )
      .subscribe();
    await until(
      () => finished >= 250,
      () => `250 tasks handled (${finished} so far)`,
      20_000,
    );
    worker.unsubscribe();
    const left = await (await bus.redis()).xrange(keys.tasks('busy', 'echo'), '-', '+');
    const ids = new Set(left.map(([id]) => id));
    for (const id of held) expect(ids.has(id)).toBe(true);
    // The 50 tasks never delivered (concurrency 250 of 300) are all still there.
    const waiting = left
      .map(([, fields]) => JSON.parse(fields[1] as string).data as number)
      .filter((data) => data >= 250);
    expect(waiting.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 250 + i));
  });
});
