import { describe, expect, it } from 'vitest';
import { poolSpec, until, useMemoryPools } from './helpers';

describe('handlers that defer a task or rule out retries', () => {
  const rig = useMemoryPools();

  it('puts a deferred task back, not failed: it comes again at the same attempt, with no error', async () => {
    const pool = rig.start(
      poolSpec({ handler: { module: 'handlers/deferring.ts', export: 'deferOnce' }, maxAttempts: 1 }),
    );
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.findings()).length === 1, 'the deferred task to be answered');
    expect((await rig.findings())[0]).toMatchObject({
      summary: 'done on attempt 1',
      attempt: 1,
    });
    expect(await rig.deadLetters()).toEqual([]);
    expect(pool.stats).toMatchObject({ completed: 1, failed: 0, deferred: 1 });
  });

  it('dead-letters at once a task whose handler says no retry can help', async () => {
    rig.start(
      poolSpec({ handler: { module: 'handlers/deferring.ts', export: 'unretryable' }, maxAttempts: 3 }),
    );
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    const [letter] = await rig.deadLetters();
    expect(letter).toMatchObject({ reason: 'failed without retry: budget exhausted' });
    expect(letter?.errors.map((e) => e.attempt)).toEqual([1]);
  });
});
