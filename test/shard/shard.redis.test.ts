import { randomUUID } from 'node:crypto';
import { type Delivery, RedisBus } from '@swarm/core';
import { type GatherResult, Shard, type ShardFinding } from '@swarm/shard';
import type { Observable, Subscription } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * The shard against real Redis, with each actor on its own bus as separate processes would be:
 * a worker process, a shard process that stops, and the shard's next process.
 */
const redis = useRedisServer();
const buses: RedisBus[] = [];
const subscriptions: Subscription[] = [];
/** Each actor is a separate Redis connection, as separate processes would be: allow for slow machines. */
const LIMIT = { limitMs: 20_000 };

afterEach(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

function newBus(): RedisBus {
  const bus = new RedisBus({ url: redis.url });
  buses.push(bus);
  return bus;
}

function collect<T>(source: Observable<T>): T[] {
  const got: T[] = [];
  subscriptions.push(source.subscribe((value) => got.push(value)));
  return got;
}

it('restarts from its stored cursor and gathers across processes', async () => {
  const swarm = `s${randomUUID().slice(0, 8)}`;
  const workerBus = newBus();
  const asks = collect(workerBus.consume(swarm, 'ask', { concurrency: 100, blockMs: 50 }));
  const answer = async (n: number) => {
    const delivery = asks.find((d) => d.task.data === n)!;
    const context = await workerBus.context.get(swarm, delivery.task.context!);
    await delivery.complete({ summary: `${n} from ${context.toString()}` });
  };

  // The first shard process: loads its context, posts six tasks, takes in three findings, stops.
  const firstBus = newBus();
  const first = new Shard({ bus: firstBus, swarm, id: 'alpha' });
  await first.start();
  const version = await first.loadContext({ text: 'the shared context' });
  const before = collect(first.newFindings$());
  const posted = await first.postBatch(
    'ask',
    Array.from({ length: 6 }, (_, n) => ({ data: n })),
  );
  await until(() => asks.length === 6, 'the worker to hold 6 asks', LIMIT);
  for (const n of [0, 1, 2]) await answer(n);
  await until(() => before.length === 3, 'the first shard to take in 3 findings', LIMIT);
  await first.stop();
  await firstBus.close();

  // No shard runs while two more are answered.
  for (const n of [3, 4]) await answer(n);

  // The next process: same id, its own bus.
  const secondBus = newBus();
  const second = new Shard({ bus: secondBus, swarm, id: 'alpha' });
  await second.start();
  expect(second.contextVersion).toBe(version);
  const after = collect(second.newFindings$());
  await until(() => after.length === 2, 'the next shard to catch up on 2 findings', LIMIT);
  await answer(5);
  await until(() => after.length === 3, 'the next shard to take in 3 findings', LIMIT);
  expect([...before, ...after].map((f) => f.taskId)).toEqual(posted.map((p) => p.id));
  expect(after.map((f) => f.summary)).toEqual([3, 4, 5].map((n) => `${n} from the shared context`));
  expect(after.every((f) => !f.stale && f.contextVersion === version)).toBe(true);

  // Fan-out/fan-in through the worker process, one task poisoned.
  subscriptions.push(
    workerBus.consume(swarm, 'check', { concurrency: 10, blockMs: 50 }).subscribe((d: Delivery) => {
      if (d.task.data === 'poison') void d.fail(new Error('bad input'), { retry: false });
      else void d.complete({ summary: `checked ${d.task.data}` });
    }),
  );
  const results: GatherResult[] = await second.gather(
    'check',
    [{ data: 'a' }, { data: 'poison' }, { data: 'b' }],
    {
      timeoutMs: 20_000,
    },
  );
  expect(results).toMatchObject([
    { finding: { summary: 'checked a', parent: 'alpha', stale: false } },
    { deadLetter: { type: 'check', reason: expect.any(String), task: { data: 'poison' } } },
    { finding: { summary: 'checked b' } },
  ]);
  const gathered = results.flatMap((r) => ('finding' in r ? [r.finding.taskId] : []));
  await until(() => after.length === 5, 'the next shard to take in 5 findings', LIMIT);
  expect(after.slice(3).map((f) => f.taskId)).toEqual(gathered);
  await second.stop();

  // A third start replays nothing: the first finding it takes is the next one answered.
  const third = new Shard({ bus: secondBus, swarm, id: 'alpha' });
  await third.start();
  const later = collect<ShardFinding>(third.newFindings$());
  await third.post('ask', { data: 6 });
  await until(() => asks.length === 7, 'the worker to hold 7 asks', LIMIT);
  await answer(6);
  await until(() => later.length >= 1, "the third shard's first finding", LIMIT);
  expect(later.map((f) => f.summary)).toEqual(['6 from the shared context']);
  await third.stop();
});
