import { MemoryBus } from '@swarm/core';
import { resolveHandler } from '@swarm/worker';
import { describe, expect, it } from 'vitest';
import { FIXTURES, poolSpec, until, useMemoryPools } from './helpers';

const fixture = (name: string) => ({ module: 'handlers/handlers.mjs', export: name });

describe('WorkerPool with a module handler', () => {
  const rig = useMemoryPools();

  it('records the finding a handler returns, summary and data', async () => {
    const pool = rig.start(poolSpec({ handler: fixture('finding') }));
    await rig.bus.post(rig.swarm, 'work', { description: 'task one', data: { n: 1 } });
    await until(async () => (await rig.findings()).length === 1, 'the finding');
    const [f] = await rig.findings();
    expect(f).toMatchObject({
      summary: 'done: task one',
      data: { echoed: { n: 1 }, attempt: 1 },
      type: 'work',
    });
    expect(pool.stats).toEqual({ completed: 1, failed: 0, deferred: 0, running: 0 });
  });

  it('turns a returned string into { summary }', async () => {
    rig.start(poolSpec({ handler: fixture('text') }));
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.findings()).length === 1, 'the finding');
    expect((await rig.findings())[0]).toMatchObject({ summary: 'a plain string', data: null });
  });

  it.each([
    ['nothing', 'handler returned undefined: return a string or { summary, data? }'],
    ['number', 'handler returned a number (42): return a string or { summary, data? }'],
    ['noSummary', 'handler returned an object without a string summary ({"result":"forgot the summary"})'],
  ])('fails a task whose handler (%s) returns no finding, saying what it got', async (name, message) => {
    rig.start(poolSpec({ handler: fixture(name), maxAttempts: 1 }));
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    const [dead] = await rig.deadLetters();
    expect(dead?.errors[0]?.message).toContain(message);
    expect(await rig.findings()).toEqual([]);
  });

  it.each([
    ['throwsString', 'rate limited, as a string'],
    ['throwsObject', 'handler threw a non-Error value: {"code":42,"reason":"an object"}'],
    ['throwsUndefined', 'handler threw undefined'],
  ])(
    'retries a handler that throws a non-Error (%s), then dead-letters it with a readable message',
    async (name, message) => {
      const pool = rig.start(poolSpec({ handler: fixture(name), maxAttempts: 3 }));
      await rig.bus.post(rig.swarm, 'work', {});
      await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
      const [dead] = await rig.deadLetters();
      expect(dead?.errors.map((e) => [e.attempt, e.message])).toEqual([
        [1, message],
        [2, message],
        [3, message],
      ]);
      expect(dead?.reason).toBe(`failed 3 of 3 attempts: ${message}`);
      expect(pool.stats).toMatchObject({ completed: 0, failed: 3 });
    },
  );

  it('keeps working after failures: a retried task and the next task both complete', async () => {
    const pool = rig.start(poolSpec({ handler: fixture('flaky'), concurrency: 2 }));
    await rig.bus.postBatch(rig.swarm, 'work', [{ description: 'a' }, { description: 'b' }]);
    await until(async () => (await rig.findings()).length === 2, 'both findings');
    expect((await rig.findings()).map((f) => f.summary)).toEqual([
      'succeeded on attempt 2',
      'succeeded on attempt 2',
    ]);
    expect(pool.stats).toEqual({ completed: 2, failed: 2, deferred: 0, running: 0 });
  });

  it('fails a handler that never settles at timeoutMs and aborts its signal', async () => {
    const pool = rig.start(poolSpec({ handler: fixture('hangs'), timeoutMs: 200, maxAttempts: 1 }));
    const { id } = await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe('timed out after 200 ms');
    const aborts = (globalThis as { swarmTestAborts?: { taskId: string; reason: string }[] }).swarmTestAborts;
    expect(aborts).toContainEqual({ taskId: id, reason: 'timed out after 200 ms' });
    // The hung handler does not hold the pool: it is free, and stop() does not wait for it.
    expect(pool.stats.running).toBe(0);
  });

  it("hands the handler the shard's context, as text and as bytes", async () => {
    rig.start(poolSpec({ handler: fixture('readsContext') }));
    const context = await rig.bus.context.put(rig.swarm, 'the shard knows: é✓');
    await rig.bus.post(rig.swarm, 'work', { context });
    await until(async () => (await rig.findings()).length === 1, 'the finding');
    expect((await rig.findings())[0]).toMatchObject({
      summary: 'the shard knows: é✓',
      data: { bytes: Buffer.byteLength('the shard knows: é✓') },
      contextVersion: context,
    });
  });

  it('rejects context() clearly when the task has none', async () => {
    rig.start(poolSpec({ handler: fixture('readsContext'), maxAttempts: 1 }));
    const { id } = await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe(
      `task ${id} has no context: the shard posted it without one`,
    );
  });

  it('stop() lets a running task finish, then claims nothing more', async () => {
    const pool = rig.start(poolSpec({ handler: { builtin: 'sleep' }, concurrency: 1 }));
    await rig.bus.postBatch(rig.swarm, 'work', [{ data: { ms: 300 } }, { data: { ms: 300 } }]);
    await until(() => pool.stats.running === 1, 'the first task to start');
    await pool.stop();
    expect(pool.stats).toEqual({ completed: 1, failed: 0, deferred: 0, running: 0 });
    expect((await rig.bus.status(rig.swarm)).types[0]).toMatchObject({ waiting: 1, inFlight: 0 });
  });
});

describe('resolveHandler for modules', () => {
  const bus = new MemoryBus();
  const ctx = { description: 'three little words' };

  it.each([
    [{ module: 'handlers/default-export.mjs' }, 'from the default export'],
    [{ module: 'handlers/handler-export.mjs' }, 'from the handler export'],
    [{ module: 'handlers/handlers.mjs', export: 'text' }, 'a plain string'],
  ])('picks the named export, else default, else handler (%j)', async (spec, summary) => {
    const handler = await resolveHandler(spec, FIXTURES, bus);
    expect(await handler({ task: ctx } as never)).toBe(summary);
  });

  it('loads a TypeScript module', async () => {
    const handler = await resolveHandler({ module: 'handlers/typed.ts' }, FIXTURES, bus);
    expect(await handler({ task: ctx } as never)).toEqual({
      summary: '3 words',
      data: { words: ['three', 'little', 'words'] },
    });
  });

  it.each([
    [{ module: 'handlers/missing.mjs' }, /cannot load handler module .*handlers\/missing\.mjs/],
    [{ module: 'handlers/handlers.mjs', export: 'nope' }, /has no export named "nope"/],
    [
      { module: 'handlers/handlers.mjs', export: 'notAFunction' },
      /export "notAFunction" .* is a string, not a function/,
    ],
    [{ module: 'handlers/isolated-misc.mjs' }, /exports no handler function/],
    [{ module: 'x.mjs', builtin: 'echo' as const }, /handler has module and builtin: give exactly one/],
    [{}, /handler needs one of: module, command, builtin/],
  ])('rejects a handler that cannot run (%j) with a clear error', async (spec, message) => {
    await expect(resolveHandler(spec, FIXTURES, bus)).rejects.toThrow(message);
  });
});
