import { MemoryBus, RedisBus } from '@swarm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { Pools, poolSpec, uniqueSwarm, until } from './helpers';

describe('builtin handlers', () => {
  const pools = new Pools();
  const buses: (MemoryBus | RedisBus)[] = [];
  const redis = useRedisServer();

  afterEach(async () => {
    await pools.stopAll();
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  /** Posts one task to a pool running the builtin; returns its finding or its first error. */
  async function runTask(
    bus: MemoryBus | RedisBus,
    builtin: 'echo' | 'sleep' | 'redis_health_check',
    task: Parameters<MemoryBus['post']>[2],
  ) {
    buses.push(bus);
    const swarm = uniqueSwarm();
    pools.start(bus, swarm, poolSpec({ handler: { builtin }, maxAttempts: 1 }));
    await bus.post(swarm, 'work', task);
    let settled: { finding?: Awaited<ReturnType<MemoryBus['readFindings']>>[number]; error?: string } = {};
    await until(async () => {
      const [finding] = await bus.readFindings(swarm);
      const [dead] = await bus.deadLetters(swarm);
      settled = { finding, error: dead?.errors[0]?.message };
      return settled.finding !== undefined || settled.error !== undefined;
    }, 'the task to settle');
    return settled;
  }

  it('echo: the description is the summary and the data is the data', async () => {
    const { finding } = await runTask(new MemoryBus(), 'echo', { description: 'hello', data: { a: [1, 2] } });
    expect(finding).toMatchObject({ summary: 'hello', data: { a: [1, 2] } });
  });

  it('echo: without a description, the summary is the data as JSON', async () => {
    const { finding } = await runTask(new MemoryBus(), 'echo', { data: { a: 1 } });
    expect(finding).toMatchObject({ summary: '{"a":1}', data: { a: 1 } });
  });

  it('sleep: waits data.ms, or 100 ms by default', async () => {
    expect((await runTask(new MemoryBus(), 'sleep', { data: { ms: 30 } })).finding?.summary).toBe(
      'slept 30 ms',
    );
    expect((await runTask(new MemoryBus(), 'sleep', {})).finding?.summary).toBe('slept 100 ms');
  });

  it('sleep: honours the signal, so a timeout ends it', async () => {
    const bus = new MemoryBus();
    buses.push(bus);
    const swarm = uniqueSwarm();
    pools.start(bus, swarm, poolSpec({ handler: { builtin: 'sleep' }, timeoutMs: 50, maxAttempts: 1 }));
    await bus.post(swarm, 'work', { data: { ms: 60_000 } });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    expect((await bus.deadLetters(swarm))[0]?.errors[0]?.message).toBe('timed out after 50 ms');
  });

  it("redis_health_check: pings the swarm's Redis", async () => {
    const { finding } = await runTask(new RedisBus({ url: redis.url }), 'redis_health_check', {
      description: 'ping',
      data: { test: 'ping' },
    });
    expect(finding?.summary).toBe('Redis ping successful: PONG');
    expect(finding?.data).toEqual({ reply: 'PONG', latencyMs: expect.any(Number) });
  });

  it('redis_health_check: fails clearly on the in-process bus', async () => {
    const { error } = await runTask(new MemoryBus(), 'redis_health_check', {});
    expect(error).toBe('redis_health_check needs a Redis transport: this swarm runs on the in-process bus');
  });
});
