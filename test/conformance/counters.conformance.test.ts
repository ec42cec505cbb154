import type { Bus, BusEvents, Delivery, SettledDelivery, TaskCounters, Usage } from '@swarm/core';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterEnv, memoryEnv, redisEnv, type TransportEnv, uniqueSwarm, until } from './transports';

/**
 * Issue #12, metrics: every process's work is counted in the swarm (swarm:{S}:counters) by the
 * step that does it, so a scrape that reads the swarm sees what each of them did.
 */

const usage = (costUsd: number): Usage => ({
  provider: 'test',
  model: 'm',
  inputTokens: 10,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 5,
  reasoningTokens: 0,
  costUsd,
  priceVersion: 'topology',
  calls: [],
});

const zero = (type: string): TaskCounters => ({
  type,
  posted: 0,
  completed: 0,
  failed: 0,
  deadLettered: 0,
  reclaimed: 0,
  costUsd: 0,
});

describe.each([
  ['MemoryBus', memoryEnv()],
  ['RedisBus', redisEnv()],
  ['RedisBus on a cluster', clusterEnv()],
])('%s counters', (_name, factory) => {
  let env: TransportEnv;
  let swarm: string;
  const subscriptions: Subscription[] = [];

  const collect = (bus: Bus, type: string, options: Parameters<Bus['consume']>[2] = {}) => {
    const deliveries: Delivery[] = [];
    subscriptions.push(
      bus.consume(swarm, type, { blockMs: 50, ...options }).subscribe((d) => deliveries.push(d)),
    );
    return deliveries;
  };

  afterAll(() => factory.dispose());
  beforeEach(async () => {
    env = await factory.create();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await env.teardown();
  });

  it('starts with none', async () => {
    expect(await env.bus().counters(swarm)).toEqual([]);
  });

  it('counts posts, completions with their cost, failed attempts and dead letters per type, from several buses', async () => {
    const poster = env.bus();
    await poster.postBatch(swarm, 'scan', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    await env.bus().post(swarm, 'scan', { data: 4, idempotencyKey: 'once' });
    // A repeat of an idempotent post appends nothing, so it is no post.
    await env.bus().post(swarm, 'scan', { data: 4, idempotencyKey: 'once' });
    await env.bus().post(swarm, 'other', { data: 5 });

    const worker = env.bus();
    const deliveries = collect(worker, 'scan', {
      concurrency: 4,
      maxAttempts: 2,
      backoff: { baseMs: 50, maxMs: 100 },
    });
    await until(env, () => deliveries.length === 4);
    const [a, b, c, d] = deliveries as [Delivery, Delivery, Delivery, Delivery];
    await a.complete({ summary: 'paid', usage: usage(0.25) });
    await b.complete({ summary: 'paid too', usage: usage(0.5) });
    // Handed back unworked: not a failure.
    expect(await c.defer(0)).toBe(true);
    expect(await d.fail(new Error('once'))).toMatchObject({ outcome: 'retry' });
    await until(env, () => deliveries.length === 6);
    for (const again of deliveries.slice(4)) {
      if (again.task.attempt === 1) await again.complete({ summary: 'no cost recorded' });
      else expect(await again.fail(new Error('twice'))).toMatchObject({ outcome: 'dead' });
    }
    // A second completion of a settled delivery writes nothing and counts nothing.
    expect(await a.complete({ summary: 'again' })).toMatchObject({ duplicate: true });

    expect(await env.bus().counters(swarm)).toEqual([
      { ...zero('other'), posted: 1 },
      { ...zero('scan'), posted: 4, completed: 3, failed: 2, deadLettered: 1, costUsd: 0.75 },
    ]);
  });

  it('counts a claim reported and a claim failed without retry', async () => {
    const bus = env.bus();
    await bus.postBatch(swarm, 'ask', [{ data: 1 }, { data: 2 }]);
    const claim = async () => {
      let claimed: Awaited<ReturnType<Bus['claim']>>;
      const work = bus.claim(swarm, 'ask', { waitMs: 2_000 }).then((c) => {
        claimed = c;
      });
      let done = false;
      void work.finally(() => {
        done = true;
      });
      await until(env, () => done, 30_000);
      await work;
      if (!claimed) throw new Error('no task claimed');
      return claimed;
    };
    const first = await claim();
    const second = await claim();
    expect(await bus.report(first.handle, { summary: 'ok', usage: usage(1.5) })).toMatchObject({
      outcome: 'completed',
    });
    expect(await bus.failClaim(second.handle, 'bad', { retry: false })).toMatchObject({ outcome: 'dead' });
    expect(await env.bus().counters(swarm)).toEqual([
      { ...zero('ask'), posted: 2, completed: 1, failed: 1, deadLettered: 1, costUsd: 1.5 },
    ]);
  });

  it('counts a reclaimed delivery, and one reclaimed past maxAttempts as dead', async () => {
    await env.bus().postBatch(swarm, 'echo', [{ data: 'slow' }, { data: 'killer' }]);
    const dying = env.bus();
    const first = collect(dying, 'echo', { leaseMs: 150, concurrency: 2, maxAttempts: 2 });
    await until(env, () => first.length === 2);
    await dying.close();
    const survivor = env.bus();
    const second = collect(survivor, 'echo', { leaseMs: 150, concurrency: 2, maxAttempts: 2 });
    await until(env, () => second.length === 2);
    const slow = second.find((d) => d.task.data === 'slow') as Delivery;
    await slow.complete({ summary: 'recovered' });
    await survivor.close();
    // The killer's second worker dies too: the third reclaim finds it past maxAttempts.
    const last = env.bus();
    collect(last, 'echo', { leaseMs: 150, maxAttempts: 2 });
    let counters: TaskCounters[] = [];
    for (let waited = 0; counters[0]?.deadLettered !== 1 && waited < 10_000; waited += 100) {
      await env.elapse(100);
      counters = await last.counters(swarm);
    }
    expect(counters).toEqual([{ ...zero('echo'), posted: 2, completed: 1, reclaimed: 2, deadLettered: 1 }]);
  });

  it("tells a bus's events of its own posts, deliveries, settlements and reclaims, and of no other bus's", async () => {
    const seen = { posted: 0, delivered: 0, reclaimed: 0, settled: [] as SettledDelivery[] };
    const events: BusEvents = {
      posted: (s, type, n) => {
        if (s === swarm && type === 'echo') seen.posted += n;
      },
      delivered: () => {
        seen.delivered++;
      },
      settled: (event) => {
        seen.settled.push(event);
      },
      reclaimed: (_s, _type, n) => {
        seen.reclaimed += n;
      },
    };
    const bus = env.bus({ events });
    await bus.postBatch(swarm, 'echo', [{ data: 1 }, { data: 2 }]);
    await bus.post(swarm, 'echo', { data: 3, idempotencyKey: 'k' });
    await bus.post(swarm, 'echo', { data: 3, idempotencyKey: 'k' });
    await env.bus().post(swarm, 'echo', { data: 4 });
    expect(seen.posted).toBe(3);

    // Another bus's worker takes one and dies: this bus reclaims it.
    const dying = env.bus();
    const held = collect(dying, 'echo', { leaseMs: 150 });
    await until(env, () => held.length === 1);
    await dying.close();
    const deliveries = collect(bus, 'echo', { leaseMs: 150, concurrency: 4 });
    await until(env, () => deliveries.length === 4);
    expect(seen).toMatchObject({ delivered: 4, reclaimed: 1 });
    const [a, b, c, d] = deliveries as [Delivery, Delivery, Delivery, Delivery];
    await a.complete({ summary: 'paid', usage: usage(0.125) });
    await b.fail(new Error('poison'), { retry: false });
    await c.defer(60_000);
    await d.complete({ summary: 'free' });
    expect(await a.complete({ summary: 'twice' })).toMatchObject({ duplicate: true });
    expect(seen.settled.map(({ ms, ...rest }) => rest)).toEqual([
      { swarm, type: 'echo', outcome: 'completed', costUsd: 0.125 },
      { swarm, type: 'echo', outcome: 'dead' },
      { swarm, type: 'echo', outcome: 'deferred' },
      { swarm, type: 'echo', outcome: 'completed' },
    ]);
    for (const { ms } of seen.settled) expect(ms).toBeGreaterThanOrEqual(0);
  });
});
