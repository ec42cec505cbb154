import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Delivery, keys, RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { firstValueFrom, mergeMap, take } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Issue #9, other languages: examples/python/worker.py, written from docs/PROTOCOL.md alone with
 * redis-py, runs as an OS process against a private redis-server next to swarm's own workers
 * and readers. Each test names what the protocol promises a foreign worker.
 */

process.env.SWARM_LOG_LEVEL ??= 'silent';

const WORKER = join(ROOT, 'examples/python/worker.py');

/** The first python3 that has redis-py; never skipped: without one, every test fails saying so. */
function findPython(): string {
  const candidates = [process.env.SWARM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string =>
    Boolean(c),
  );
  for (const python of candidates)
    if (spawnSync(python, ['-c', 'import redis'], { stdio: 'ignore' }).status === 0) return python;
  throw new Error(
    `no python3 with redis-py (tried ${candidates.join(', ')}): install it with ` +
      '`apt-get install -y python3-redis` (.ci/run does), or point SWARM_PYTHON at a python that has it',
  );
}

interface PythonRun {
  child: ChildProcessWithoutNullStreams;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number | null>;
}

describe('a Python worker written from PROTOCOL.md', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let raw: Redis;
  let python: string;
  const scripts = mkdtempSync(join(tmpdir(), 'swarm-py-scripts-'));
  const running = new Set<PythonRun>();
  let swarmSeq = 0;
  let swarm = '';

  const startPython = (args: string[]): PythonRun => {
    const child = spawn(
      python,
      [WORKER, '--redis', redis.url, '--swarm', swarm, '--scripts', scripts, '--json', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdin.end();
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => {
      out.stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out.stderr += d.toString();
    });
    const run: PythonRun = {
      child,
      exited: new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      }),
      get stdout() {
        return out.stdout;
      },
      get stderr() {
        return out.stderr;
      },
    };
    running.add(run);
    run.exited.finally(() => running.delete(run));
    return run;
  };
  /** Runs the worker to its exit; its result is the JSON line it prints. */
  const runPython = async (args: string[]) => {
    const run = startPython(args);
    const code = await run.exited;
    const result = run.stdout.trim() ? (JSON.parse(run.stdout) as Record<string, unknown>) : {};
    return { code, result, stderr: run.stderr };
  };
  const consumersOf = async (type: string) =>
    ((await raw.call('XINFO', 'CONSUMERS', keys.tasks(swarm, type), 'workers')) as unknown[]).length;

  beforeAll(async () => {
    python = findPython();
    bus = new RedisBus({ url: redis.url });
    raw = new Redis(redis.url);
    const written = await swarmCli(['protocol', 'scripts', '--dir', scripts]);
    expect(written.code, written.stderr).toBe(0);
  });
  beforeEach(() => {
    swarm = `py${++swarmSeq}`;
  });
  afterEach(() => {
    for (const run of running) {
      run.child.kill('SIGCONT');
      run.child.kill('SIGKILL');
    }
  });
  afterAll(async () => {
    await bus?.close();
    raw?.disconnect();
    rmSync(scripts, { recursive: true, force: true });
  });
  it('claims a task posted with `swarm post`, reads its context, and reports a finding swarm’s readers accept', async () => {
    const content = 'what the shard knows ✓\n'.repeat(10);
    const ref = await bus.context.put(swarm, content);
    const posted = await swarmCli(
      ['post', swarm, 'scan', '--description', 'look', '--data', '{"n":1}', '--context', ref, '--json'],
      { env: { SWARM_REDIS_URL: redis.url } },
    );
    expect(posted.code, posted.stderr).toBe(0);
    const taskId = (JSON.parse(posted.stdout) as { id: string }).id;

    const { code, result, stderr } = await runPython(['--type', 'scan']);
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ outcome: 'completed', taskId, attempt: 1 });

    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({
      id: result.findingId,
      swarm,
      taskId,
      type: 'scan',
      summary: `look: read ${Buffer.byteLength(content)} bytes of context`,
      attempt: 1,
      contextVersion: ref,
      tags: ['python'],
      data: {
        language: 'python',
        input: { n: 1 },
        contextBytes: Buffer.byteLength(content),
        earlierErrors: [],
      },
    });
    expect(finding?.workerId).toMatch(/^py-/);
    expect(finding?.createdAt).toBeGreaterThan(0);

    const printed = await swarmCli(['findings', swarm, '--json'], { env: { SWARM_REDIS_URL: redis.url } });
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual({ ...finding });

    // It left: no consumer in the group, no lease recorded.
    expect(await consumersOf('scan')).toBe(0);
    expect(await raw.hgetall(keys.leases(swarm, 'scan'))).toEqual({});
  });

  it('stops without reporting when its lease is lost to a swarm worker, which reports instead (exit 4)', async () => {
    const posted = await bus.post(swarm, 'scan', { description: 'slow' });
    const py = startPython(['--type', 'scan', '--lease-ms', '300', '--work-ms', '120000', '--wait', '10']);
    await until(() => py.stderr.includes('claimed'), 'the python worker to claim the task', 20_000);
    // A stalled worker: it neither renews nor works while stopped.
    py.child.kill('SIGSTOP');
    const delivered: Delivery[] = [];
    const pool = bus
      .consume(swarm, 'scan', { consumer: 'swarm-pool', leaseMs: 300, blockMs: 50 })
      .pipe(
        mergeMap(async (d) => {
          delivered.push(d);
          await d.complete({ summary: 'done by swarm' });
        }),
      )
      .subscribe();
    try {
      await until(
        async () => (await bus.readFindings(swarm)).length === 1,
        'the swarm worker to report',
        20_000,
      );
    } finally {
      pool.unsubscribe();
      py.child.kill('SIGCONT');
    }
    expect(await py.exited).toBe(4);
    expect(JSON.parse(py.stdout)).toMatchObject({ outcome: 'lost', taskId: posted.id });
    expect(py.stderr).toContain('lease lost');

    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ taskId: posted.id, workerId: 'swarm-pool', attempt: 2 });
    expect(delivered.map((d) => d.attempt)).toEqual([2]);
  });

  it('takes a task a swarm worker failed, at the next attempt, with its error history', async () => {
    const posted = await bus.post(swarm, 'scan', { description: 'fails once' });
    const failed = await firstValueFrom(
      bus.consume(swarm, 'scan', { backoff: { baseMs: 1, maxMs: 1 }, blockMs: 50 }).pipe(
        take(1),
        mergeMap((d) => d.fail(new Error('boom'))),
      ),
    );
    expect(failed).toMatchObject({ outcome: 'retry', attempt: 2 });

    const { code, result, stderr } = await runPython(['--type', 'scan']);
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ outcome: 'completed', taskId: posted.id, attempt: 2 });
    const [finding] = await bus.readFindings(swarm);
    expect(finding).toMatchObject({ taskId: posted.id, attempt: 2, data: { earlierErrors: ['boom'] } });
  });

  it('reclaims a task whose swarm worker died, held to that worker’s recorded lease, at the next attempt', async () => {
    const posted = await bus.post(swarm, 'scan', { description: 'orphaned' });
    const crashed = new RedisBus({ url: redis.url });
    const delivery = await firstValueFrom(crashed.consume(swarm, 'scan', { leaseMs: 300, blockMs: 50 }));
    expect(delivery.attempt).toBe(1);
    // Gone without settling: the entry stays pending under a consumer that never renews it.
    await crashed.close();

    // The python worker's own lease is long: the dead worker's 300 ms is what expires the entry.
    const { code, result, stderr } = await runPython(['--type', 'scan', '--lease-ms', '600000']);
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ outcome: 'completed', taskId: posted.id, attempt: 2 });
    expect((await bus.readFindings(swarm))[0]).toMatchObject({ taskId: posted.id, attempt: 2 });
  });

  it('records a task claimed past its deadline as expired, dead-letters a malformed entry as swarm does, and exits 3 when nothing is left', async () => {
    await raw.xadd(keys.tasks(swarm, 'scan'), '*', 'task', '{nope');
    const late = await bus.post(swarm, 'scan', { description: 'too late', deadline: Date.now() - 60_000 });

    const { code, result, stderr } = await runPython(['--type', 'scan', '--wait', '0.5']);
    expect(code, stderr).toBe(3);
    expect(result).toMatchObject({ outcome: 'no-task' });

    const [dead] = await bus.deadLetters(swarm);
    expect(dead).toMatchObject({
      type: 'scan',
      reason: 'malformed entry: field "task" is not valid JSON',
      raw: { task: '{nope' },
      errors: [],
    });
    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      taskId: late.id,
      summary: 'expired: not started before its deadline',
      tags: ['expired'],
      data: null,
      attempt: 1,
    });
  });

  it('fails a task whose context lost a chunk (retried with backoff, never run on part of it), exit 1', async () => {
    const ref = await bus.context.put(swarm, 'a context that loses its only chunk');
    await raw.hdel(keys.context(swarm, ref), 'c0');
    const posted = await bus.post(swarm, 'scan', { context: ref });

    const { code, result, stderr } = await runPython(['--type', 'scan']);
    expect(code, stderr).toBe(1);
    expect(result).toMatchObject({ outcome: 'failed', taskId: posted.id });
    expect(String(result.error)).toContain('chunk 0 of 1 is missing');
    expect(await bus.readFindings(swarm)).toEqual([]);
    const [retried] = (await raw.zrange(keys.delayed(swarm, 'scan'), '0', '-1')).map(
      (member) => JSON.parse(JSON.parse(member)[1] as string) as Record<string, unknown>,
    );
    expect(retried).toMatchObject({
      id: posted.id,
      attempt: 2,
      errors: [{ attempt: 1, message: expect.stringContaining('chunk 0 of 1 is missing') }],
    });
  });

  it('trims findings with the bound the swarm recorded in swarm:{S}:retention', async () => {
    const bounded = new RedisBus({ url: redis.url, retention: { findings: { maxLen: 1 } } });
    try {
      // Joining the task type records the bound; no task is waiting yet.
      expect(await bounded.claim(swarm, 'scan')).toBeUndefined();
    } finally {
      await bounded.close();
    }
    await bus.postBatch(swarm, 'scan', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    for (let i = 0; i < 3; i++) {
      const { code, stderr } = await runPython(['--type', 'scan', '--wait', '1']);
      expect(code, stderr).toBe(0);
    }
    expect(await raw.xlen(keys.findings(swarm))).toBe(1);
    expect((await bus.readFindings(swarm))[0]?.data).toMatchObject({ input: 3 });
  });
});
