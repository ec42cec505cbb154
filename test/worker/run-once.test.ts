import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryBus } from '@swarm/core';
import { runOnce } from '@swarm/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, uniqueSwarm } from './helpers';

describe('runOnce: one ephemeral worker', () => {
  let bus: MemoryBus;
  let swarm: string;

  beforeEach(() => {
    bus = new MemoryBus();
    swarm = uniqueSwarm();
  });
  afterEach(() => bus.close());

  const once = (overrides: Partial<Parameters<typeof runOnce>[0]> = {}) =>
    runOnce({
      bus,
      swarm,
      type: 'work',
      handler: { builtin: 'echo' },
      baseDir: FIXTURES,
      waitMs: 2_000,
      ...overrides,
    });

  it('completes one task, returns its finding, and leaves the other tasks alone', async () => {
    const [first] = await bus.postBatch(swarm, 'work', [{ description: 'first' }, { description: 'second' }]);
    const result = await once();
    const findings = await bus.readFindings(swarm);
    expect(result).toEqual({
      outcome: 'completed',
      taskId: first?.id,
      findingId: findings[0]?.id,
      summary: 'first',
    });
    expect(findings.map((f) => f.taskId)).toEqual([first?.id]);
    expect((await bus.status(swarm)).types).toMatchObject([{ type: 'work', waiting: 1, inFlight: 0 }]);
  });

  it('takes a task posted while it waits', async () => {
    const result = once();
    await sleep(50);
    await bus.post(swarm, 'work', { description: 'late' });
    expect(await result).toMatchObject({ outcome: 'completed', summary: 'late' });
  });

  it('answers no-task after waitMs when the queue stays empty', async () => {
    expect(await once({ waitMs: 100 })).toEqual({ outcome: 'no-task' });
    // A task posted afterwards is not claimed by the worker that gave up.
    await bus.post(swarm, 'work', {});
    await sleep(50);
    expect((await bus.status(swarm)).types).toMatchObject([{ waiting: 1, inFlight: 0 }]);
  });

  it('reports a failure and leaves the task to be retried, saying when and as which attempt', async () => {
    const { id } = await bus.post(swarm, 'work', {});
    const result = await once({ handler: { module: 'handlers/handlers.mjs', export: 'throwsString' } });
    expect(result).toEqual({
      outcome: 'failed',
      taskId: id,
      error: 'rate limited, as a string',
      attempt: 1,
      maxAttempts: 3,
      next: 'retry',
      retryInMs: expect.any(Number),
    });
    expect(await bus.deadLetters(swarm)).toEqual([]);
    const status = (await bus.status(swarm)).types[0];
    expect((status?.waiting ?? 0) + (status?.delayed ?? 0)).toBe(1);
  });

  it('dead-letters on the attempt that reaches maxAttempts', async () => {
    await bus.post(swarm, 'work', {});
    const result = await once({
      handler: { module: 'handlers/handlers.mjs', export: 'nothing' },
      maxAttempts: 1,
    });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('handler returned undefined'),
      attempt: 1,
      maxAttempts: 1,
      next: 'dead-letter',
    });
    expect(await bus.deadLetters(swarm)).toHaveLength(1);
  });

  it('fails at timeoutMs', async () => {
    await bus.post(swarm, 'work', {});
    const result = await once({
      handler: { module: 'handlers/handlers.mjs', export: 'hangs' },
      timeoutMs: 100,
    });
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out after 100 ms' });
  });
});
