import { MemoryBus } from '@swarm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Pools, poolSpec, uniqueSwarm, until } from './helpers';

describe('handlers that defer a task or rule out retries', () => {
  let bus: MemoryBus;
  let swarm: string;
  const pools = new Pools();

  beforeEach(() => {
    bus = new MemoryBus();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    await pools.stopAll();
    await bus.close();
  });

  it('puts a deferred task back, not failed: it comes again at the same attempt, with no error', async () => {
    const pool = pools.start(
      bus,
      swarm,
      poolSpec({ handler: { module: 'handlers/deferring.ts', export: 'deferOnce' }, maxAttempts: 1 }),
    );
    await bus.post(swarm, 'work', {});
    await until(async () => (await bus.readFindings(swarm)).length === 1, 'the deferred task to be answered');
    expect((await bus.readFindings(swarm))[0]).toMatchObject({ summary: 'done on attempt 1', attempt: 1 });
    expect(await bus.deadLetters(swarm)).toEqual([]);
    expect(pool.stats).toMatchObject({ completed: 1, failed: 0, deferred: 1 });
  });

  it('dead-letters at once a task whose handler says no retry can help', async () => {
    pools.start(
      bus,
      swarm,
      poolSpec({ handler: { module: 'handlers/deferring.ts', export: 'unretryable' }, maxAttempts: 3 }),
    );
    await bus.post(swarm, 'work', {});
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    const [letter] = await bus.deadLetters(swarm);
    expect(letter).toMatchObject({ reason: 'failed without retry: budget exhausted' });
    expect(letter?.errors.map((e) => e.attempt)).toEqual([1]);
  });
});
