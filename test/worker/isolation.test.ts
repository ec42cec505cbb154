import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, poolSpec, until, useMemoryPools } from './helpers';

describe('WorkerPool with isolation: process', () => {
  const rig = useMemoryPools();

  const isolated = (
    handler: { module: string; export?: string },
    more: Partial<Parameters<typeof poolSpec>[0]> = {},
  ) => poolSpec({ handler, isolation: 'process', ...more });

  it('runs each task in its own fresh child process, so module state never leaks', async () => {
    rig.start(isolated({ module: 'handlers/counter.mjs' }));
    await rig.bus.postBatch(rig.swarm, 'work', [{}, {}]);
    await until(async () => (await rig.findings()).length === 2, 'both findings');
    const data = (await rig.findings()).map((f) => f.data as { pid: number; count: number });
    expect(data.map((d) => d.count)).toEqual([1, 1]);
    const [first, second] = data.map((d) => d.pid);
    expect(first).not.toBe(second);
    expect(data.map((d) => d.pid)).not.toContain(process.pid);
  });

  it('sends the context along with the task: the child needs no bus', async () => {
    rig.start(isolated({ module: 'handlers/isolated-misc.mjs', export: 'context' }));
    const context = await rig.bus.context.put(rig.swarm, 'context for the child é✓');
    await rig.bus.post(rig.swarm, 'work', { context });
    await until(async () => (await rig.findings()).length === 1, 'the finding');
    expect((await rig.findings())[0]?.summary).toBe('context for the child é✓');
  });

  it('reports what the child threw, and a child that exits without reporting', async () => {
    rig.start(isolated({ module: 'handlers/isolated-misc.mjs', export: 'fails' }, { maxAttempts: 1 }));
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe(
      'handler threw a non-Error value: {"code":"E_ISOLATED"}',
    );

    await rig.nextSwarm();
    rig.start(isolated({ module: 'handlers/isolated-misc.mjs', export: 'exits' }, { maxAttempts: 1 }));
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe(
      'handler process exited with code 7 before reporting a result',
    );
  });

  it('normalises the result in the parent: undefined fails clearly', async () => {
    rig.start(isolated({ module: 'handlers/handlers.mjs', export: 'nothing' }, { maxAttempts: 1 }));
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
    expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe(
      'handler returned undefined: return a string or { summary, data? }',
    );
  });

  it('kills the child at timeoutMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-worker-test-'));
    const pidFile = join(dir, 'pid');
    try {
      rig.start(isolated({ module: 'handlers/isolated-hang.mjs' }, { timeoutMs: 2_500, maxAttempts: 1 }));
      await rig.bus.post(rig.swarm, 'work', { data: { pidFile } });
      await until(
        () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0,
        'the child to start',
      );
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).not.toBe(process.pid);
      await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
      expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe('timed out after 2500 ms');
      await until(() => !isAlive(pid), 'the child to be gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses isolation for a handler that is not a module', async () => {
    const pool = rig.start(poolSpec({ handler: { builtin: 'echo' }, isolation: 'process' }));
    await expect(pool.ready).rejects.toThrow('isolation: process applies to module handlers only');
  });
});
