import { setTimeout as sleep } from 'node:timers/promises';
import { type Delivery, type Finding, RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { mergeMap, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * A consumer or reader must never stay wedged: after a killed connection, a Redis restart or a
 * Redis that stops answering for longer than the blocking timeout, work flows again by itself.
 */
describe('RedisBus connections', () => {
  const redis = useRedisServer({ appendonly: 'always' });
  let admin: Redis;
  const subscriptions: Subscription[] = [];
  const buses: RedisBus[] = [];

  beforeAll(async () => {
    admin = new Redis(redis.url, { protocol: 2, maxRetriesPerRequest: null });
    admin.on('error', () => {});
  });
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    admin.disconnect();
  });

  /** A worker that completes everything, and a reader that records every finding. */
  function pipeline(swarm: string) {
    const bus = new RedisBus({ url: redis.url });
    buses.push(bus);
    const findings: Finding[] = [];
    const handled: Delivery[] = [];
    subscriptions.push(
      bus
        .consume(swarm, 'echo', { concurrency: 4, blockMs: 200, leaseMs: 2_000 })
        .pipe(
          mergeMap(async (d) => {
            handled.push(d);
            await d.complete({ summary: String(d.task.data) });
          }),
        )
        .subscribe(),
      bus.findings$(swarm).subscribe((f) => findings.push(f)),
    );
    return { bus, findings, handled };
  }

  /** Reconnecting takes the client's retry backoff and the blocked read's watchdog: seconds, not ms. */
  const RECOVERY = { limitMs: 20_000 };

  const summaries = (findings: Finding[]) => findings.map((f) => f.summary).sort();

  it('recovers after every client connection is killed', async () => {
    const { bus, findings } = pipeline('killed');
    await bus.post('killed', 'echo', { data: 'before' });
    await until(() => findings.length === 1, '1 finding', RECOVERY);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await bus.post('killed', 'echo', { data: 'after' });
    await until(() => findings.length === 2, '2 findings', RECOVERY);
    expect(summaries(findings)).toEqual(['after', 'before']);
  });

  it('recovers after Redis is killed and restarted, losing nothing fsynced', async () => {
    const { bus, findings } = pipeline('restart');
    await bus.postBatch(
      'restart',
      'echo',
      Array.from({ length: 20 }, (_, i) => ({ data: `a${i}` })),
    );
    await until(() => findings.length === 20, '20 findings', RECOVERY);
    await redis.server.kill();
    await sleep(300);
    await redis.server.start();
    await bus.postBatch(
      'restart',
      'echo',
      Array.from({ length: 20 }, (_, i) => ({ data: `b${i}` })),
    );
    await until(() => findings.length === 40, '40 findings', RECOVERY);
    await sleep(300);
    expect(new Set(findings.map((f) => f.id)).size).toBe(40);
    expect((await bus.readFindings('restart')).length).toBe(40);
  });

  it('recovers after Redis stops answering for longer than the blocking timeout', async () => {
    const { bus, findings } = pipeline('paused');
    await bus.post('paused', 'echo', { data: 'before' });
    await until(() => findings.length === 1, '1 finding', RECOVERY);
    redis.server.pause();
    // Past BLOCK (200 ms) plus the watchdog's grace (3 s): the blocked read is given up on.
    await sleep(4_000);
    redis.server.resume();
    await bus.post('paused', 'echo', { data: 'after' });
    await until(() => findings.length === 2, '2 findings', RECOVERY);
    expect(summaries(findings)).toEqual(['after', 'before']);
  });

  it('creates the consumer group again when Redis comes back empty', async () => {
    const { bus, findings } = pipeline('flushed');
    await bus.post('flushed', 'echo', { data: 'one' });
    await until(() => findings.length === 1, '1 finding', RECOVERY);
    await admin.flushall();
    await bus.post('flushed', 'echo', { data: 'two' });
    await until(() => findings.some((f) => f.summary === 'two'), "the finding of 'two'", RECOVERY);
    expect((await bus.readFindings('flushed')).map((f) => f.summary)).toEqual(['two']);
  });
});
