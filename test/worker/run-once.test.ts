import { setTimeout as sleep } from 'node:timers/promises';
import { runOnce } from '@swarm/worker';
import { describe, expect, it } from 'vitest';
import { FIXTURES, useMemoryPools } from './helpers';

describe('runOnce: one ephemeral worker', () => {
  const rig = useMemoryPools();

  const once = (overrides: Partial<Parameters<typeof runOnce>[0]> = {}) =>
    runOnce({
      bus: rig.bus,
      swarm: rig.swarm,
      type: 'work',
      handler: { builtin: 'echo' },
      baseDir: FIXTURES,
      waitMs: 2_000,
      ...overrides,
    });

  it('completes one task, returns its finding, and leaves the other tasks alone', async () => {
    const [first] = await rig.bus.postBatch(rig.swarm, 'work', [
      { description: 'first' },
      { description: 'second' },
    ]);
    const result = await once();
    const findings = await rig.findings();
    expect(result).toEqual({
      outcome: 'completed',
      taskId: first?.id,
      findingId: findings[0]?.id,
      summary: 'first',
    });
    expect(findings.map((f) => f.taskId)).toEqual([first?.id]);
    expect((await rig.bus.status(rig.swarm)).types).toMatchObject([
      { type: 'work', waiting: 1, inFlight: 0 },
    ]);
  });

  it('takes a task posted while it waits', async () => {
    // A wait far longer than the pause before the post: a loaded machine cannot make it miss.
    const result = once({ waitMs: 60_000 });
    await sleep(50);
    await rig.bus.post(rig.swarm, 'work', { description: 'late' });
    expect(await result).toMatchObject({ outcome: 'completed', summary: 'late' });
  });

  it('answers no-task after waitMs when the queue stays empty', async () => {
    expect(await once({ waitMs: 100 })).toEqual({ outcome: 'no-task' });
    // A task posted afterwards is not claimed by the worker that gave up.
    await rig.bus.post(rig.swarm, 'work', {});
    await sleep(50);
    expect((await rig.bus.status(rig.swarm)).types).toMatchObject([{ waiting: 1, inFlight: 0 }]);
  });

  it('reports a failure and leaves the task to be retried, saying when and as which attempt', async () => {
    const { id } = await rig.bus.post(rig.swarm, 'work', {});
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
    expect(await rig.deadLetters()).toEqual([]);
    const status = (await rig.bus.status(rig.swarm)).types[0];
    expect((status?.waiting ?? 0) + (status?.delayed ?? 0)).toBe(1);
  });

  it('dead-letters on the attempt that reaches maxAttempts', async () => {
    await rig.bus.post(rig.swarm, 'work', {});
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
    expect(await rig.deadLetters()).toHaveLength(1);
  });

  it('fails at timeoutMs', async () => {
    await rig.bus.post(rig.swarm, 'work', {});
    const result = await once({
      handler: { module: 'handlers/handlers.mjs', export: 'hangs' },
      timeoutMs: 100,
    });
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out after 100 ms' });
  });
});
