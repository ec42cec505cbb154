import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, isAlive, poolSpec, until, useMemoryPools } from './helpers';

const node = process.execPath;
/** A command running a one-line Node program. */
const inline = (source: string) => ({ command: [node, '-e', source] });

describe('WorkerPool with a command handler', () => {
  const rig = useMemoryPools();

  it('reads a JSON finding from stdout, with the task as JSON on stdin and SWARM_* in its env', async () => {
    const { finding } = await rig.runTask(
      { command: [node, 'commands/inspect.mjs'], env: { EXTRA: 'from the spec' } },
      { description: 'inspect me', data: { n: 1 } },
    );
    expect(finding?.summary).toBe('inspected');
    const data = finding?.data as Record<string, never>;
    expect(data.task).toMatchObject({
      id: finding?.taskId,
      description: 'inspect me',
      data: { n: 1 },
      attempt: 1,
    });
    expect(data.env).toEqual({
      EXTRA: 'from the spec',
      SWARM_SWARM: rig.swarm,
      SWARM_TASK_ID: finding?.taskId,
      SWARM_TASK_TYPE: 'work',
      SWARM_ATTEMPT: '1',
      SWARM_LOG_LEVEL: process.env.SWARM_LOG_LEVEL,
    });
    expect(data.cwd).toBe(FIXTURES);
  });

  it("does not hand the swarm's Redis credentials to the command", async () => {
    const saved = process.env.SWARM_REDIS_URL;
    process.env.SWARM_REDIS_URL = 'redis://:hunter2@cache:6379';
    try {
      const { finding } = await rig.runTask({ command: [node, 'commands/inspect.mjs'] });
      expect(JSON.stringify(finding?.data)).not.toContain('hunter2');
      const data = finding?.data as { env: Record<string, string> } | undefined;
      expect(data?.env).toBeDefined();
      expect(data?.env.SWARM_REDIS_URL).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.SWARM_REDIS_URL;
      else process.env.SWARM_REDIS_URL = saved;
    }
  });

  it('takes plain text stdout, trimmed, as the summary', async () => {
    const { finding } = await rig.runTask(inline('console.log("  three plain words  ")'));
    expect(finding).toMatchObject({ summary: 'three plain words', data: null });
  });

  it('takes a JSON string as the summary', async () => {
    const { finding } = await rig.runTask(inline('console.log(JSON.stringify("a json string"))'));
    expect(finding?.summary).toBe('a json string');
  });

  it('takes non-JSON garbage and JSON without a summary as text', async () => {
    const garbage = await rig.runTask(inline('process.stdout.write("{not json ]] \\u0001")'));
    expect(garbage.finding?.summary).toBe('{not json ]] \u0001');
    await rig.nextSwarm();
    const noSummary = await rig.runTask(inline('process.stdout.write(JSON.stringify({ answer: 42 }))'));
    expect(noSummary.finding?.summary).toBe('{"answer":42}');
  });

  it('fails a command that prints nothing', async () => {
    const { error } = await rig.runTask(inline(''));
    expect(error).toMatch(/^command printed nothing/);
  });

  it('fails a non-zero exit with the exit code and the tail of stderr', async () => {
    const { error } = await rig.runTask(
      inline('process.stderr.write("x".repeat(5000) + "the real reason"); process.exit(3)'),
    );
    // The end of stderr, cut to what the dead letter keeps (2 000 characters).
    expect(error).toMatch(/^exit code 3: …x+the real reason$/);
    expect(error).toHaveLength(2_000);
  });

  it('says when the command was killed by a signal', async () => {
    const { error } = await rig.runTask(inline('process.kill(process.pid, "SIGTERM")'));
    expect(error).toBe('killed by signal SIGTERM (stderr was empty)');
  });

  it('fails 10 MB of stdout with a clear message, and the pool carries on', async () => {
    const { error } = await rig.runTask(
      inline('const mb = "y".repeat(1 << 20); for (let i = 0; i < 10; i++) process.stdout.write(mb)'),
    );
    expect(error).toBe('output over 1 MiB: the process group was killed');
    await rig.bus.post(rig.swarm, 'work', {});
    await until(async () => (await rig.deadLetters()).length === 2, 'the next task to settle');
  });

  it('fails a program that does not exist, and a path that does not exist, without crashing', async () => {
    const { error } = await rig.runTask({ command: ['swarm-no-such-program-here'] }, {}, { maxAttempts: 2 });
    expect(error).toBe('cannot run swarm-no-such-program-here: no such program (ENOENT)');
    const [dead] = await rig.deadLetters();
    expect(dead?.errors).toHaveLength(2);
    await rig.nextSwarm();
    const missingPath = await rig.runTask({ command: ['./bin/missing'] });
    expect(missingPath.error).toBe(`cannot run ${join(FIXTURES, 'bin/missing')}: no such program (ENOENT)`);
  });

  it('does not mind a command that never reads its stdin', async () => {
    const { finding } = await rig.runTask({ command: [node, 'commands/ignores-stdin.mjs'] });
    expect(finding?.summary).toBe('did not read stdin');
  });

  it('never puts task data in argv unless passDataAsArgs is set', async () => {
    const data = ['--evil', '$(touch /tmp/pwned)', '; rm -rf /'];
    const off = await rig.runTask({ command: [node, 'commands/inspect.mjs', 'fixed'] }, { data });
    expect((off.finding?.data as { args?: string[] } | undefined)?.args).toEqual(['fixed']);
    await rig.nextSwarm();
    const on = await rig.runTask(
      { command: [node, 'commands/inspect.mjs', 'fixed'], passDataAsArgs: true },
      { data },
    );
    // Appended verbatim, each one argument: no shell ever sees them.
    expect((on.finding?.data as { args?: string[] } | undefined)?.args).toEqual(['fixed', ...data]);
  });

  it('fails passDataAsArgs when the data is not an array of strings', async () => {
    const { error } = await rig.runTask(
      { command: [node, 'commands/inspect.mjs'], passDataAsArgs: true },
      { data: { not: 'an array' } },
    );
    expect(error).toBe(
      'passDataAsArgs needs the task\'s data to be an array of strings, got an object ({"not":"an array"})',
    );
  });

  it("gives the command the shard's context in SWARM_CONTEXT_FILE, and deletes the file afterwards", async () => {
    const content = `shard context: ${'é✓ '.repeat(1000)}`;
    const context = await rig.bus.context.put(rig.swarm, content);
    const { finding } = await rig.runTask({ command: [node, 'commands/inspect.mjs'] }, { context });
    const data = finding?.data as { context: string; env: Record<string, string> };
    expect(data.context).toBe(content);
    expect(data.env.SWARM_CONTEXT_REF).toBe(context);
    expect(existsSync(data.env.SWARM_CONTEXT_FILE as string)).toBe(false);
  });

  it('kills the whole process group at timeoutMs: the command and the child it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-worker-test-'));
    const pidFile = join(dir, 'pids.json');
    try {
      rig.start(
        poolSpec({
          handler: { command: [node, 'commands/sleeps-with-child.mjs'], env: { PID_FILE: pidFile } },
          // Long enough for Node to start twice on a busy machine.
          timeoutMs: 2_500,
          maxAttempts: 1,
        }),
      );
      await rig.bus.post(rig.swarm, 'work', {});
      await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 'the pid file');
      const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { child: number; grandchild: number };
      expect(isAlive(pids.grandchild)).toBe(true);
      await until(async () => (await rig.deadLetters()).length === 1, 'the dead letter');
      expect((await rig.deadLetters())[0]?.errors[0]?.message).toBe('timed out after 2500 ms');
      await until(() => !isAlive(pids.child) && !isAlive(pids.grandchild), 'both processes to be gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
