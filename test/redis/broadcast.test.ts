import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

describe('findings broadcast', () => {
  const redis = useRedisServer();

  it('publishes each batch with the id before it, chained to the stream, for any SUBSCRIBE client', async () => {
    const listener = new Redis(redis.url, { protocol: 2 });
    const messages: { prev: string; findings: { id: string; summary: string }[] }[] = [];
    listener.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message)));
    await listener.subscribe('swarm:{cast}:findings');
    const bus = new RedisBus({ url: redis.url });
    const worker = bus
      .consume('cast', 'echo', { concurrency: 4 })
      .pipe(mergeMap((d) => d.complete({ summary: `s${String(d.task.data)}` })))
      .subscribe();
    for (let i = 0; i < 5; i++) await bus.postBatch('cast', 'echo', [{ data: i * 2 }, { data: i * 2 + 1 }]);
    await until(() => messages.flatMap((m) => m.findings).length >= 10, '10 broadcast findings');
    worker.unsubscribe();
    const stored = await bus.readFindings('cast');
    expect(messages.flatMap((m) => m.findings.map((f) => f.id))).toEqual(stored.map((f) => f.id));
    // Each message names the finding just before its first one: the chain has no gap.
    let previous = '0-0';
    for (const message of messages) {
      expect(message.prev).toBe(previous);
      previous = message.findings.at(-1)?.id as string;
    }
    listener.disconnect();
    await bus.close();
  });

  it('lets live readers take findings from the broadcasts, reading the stream rarely, and miss none', async () => {
    const TOTAL = 20_000;
    const admin = new Redis(redis.url, { protocol: 2 });
    const bus = new RedisBus({ url: redis.url });
    const reader = new RedisBus({ url: redis.url });
    // 25 readers in one process, as 25 actors following one swarm would be.
    const readers = Array.from({ length: 25 }, () => [] as string[]);
    const subscriptions = readers.map((got) =>
      reader.findings$('steady', { from: 'start' }).subscribe((f) => got.push(f.id)),
    );
    await new Promise((r) => setTimeout(r, 200));
    const xrange = async () => {
      const stats = (await admin.info('commandstats')).match(/cmdstat_xrange:calls=(\d+)/);
      return Number(stats?.[1] ?? 0);
    };
    const before = await xrange();
    // A busy swarm for a few seconds, long enough for the readers' 1 s safety poll to fire
    // mid-flow: 64 publishes always in flight.
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < TOTAL) {
          await bus.publish('steady', { type: 'n', summary: `${next++}` });
        }
      }),
    );
    await until(
      () => readers.every((got) => got.length >= TOTAL),
      () =>
        `every reader to take ${TOTAL} findings (the slowest has ${Math.min(...readers.map((g) => g.length))})`,
    );
    const reads = (await xrange()) - before;
    console.log(`${readers.length} live readers: ${TOTAL} findings, ${reads} stream reads`);
    const stored = await bus.readFindings('steady', { count: TOTAL + 1 });
    for (const got of readers) expect(got).toEqual(stored.map((f) => f.id));
    // Every broadcast that follows on is taken as it is, even one that lands during a read.
    expect(reads).toBeLessThan((readers.length * TOTAL) / 100);
    for (const subscription of subscriptions) subscription.unsubscribe();
    admin.disconnect();
    await Promise.all([bus.close(), reader.close()]);
  });
});
