import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { mergeMap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../support/redis-server';

describe('findings broadcast', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('publishes each batch with the id before it, chained to the stream, for any SUBSCRIBE client', async () => {
    const listener = new Redis(server.url, { protocol: 2 });
    const messages: { prev: string; findings: { id: string; summary: string }[] }[] = [];
    listener.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message)));
    await listener.subscribe('swarm:{cast}:findings');
    const bus = new RedisBus({ url: server.url });
    const worker = bus
      .consume('cast', 'echo', { concurrency: 4 })
      .pipe(mergeMap((d) => d.complete({ summary: `s${String(d.task.data)}` })))
      .subscribe();
    for (let i = 0; i < 5; i++) await bus.postBatch('cast', 'echo', [{ data: i * 2 }, { data: i * 2 + 1 }]);
    const deadline = Date.now() + 10_000;
    while (messages.flatMap((m) => m.findings).length < 10 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
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
});
