import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DeadLetter, type Finding, type JsonValue, RedisBus, type SwarmStatus } from '@swarm/core';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jsonLines, ROOT, SWARM_BIN } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * The `swarm` CLI as long-running OS processes: signalled mid-run (SIGTERM, SIGINT, SIGKILL),
 * followed live, and its error paths. Every child is tracked and SIGKILLed after each test.
 * Setup and most checks go through a RedisBus in this process; the CLI verb under test is always
 * a real process.
 */

const fixture = (name: string) => join(ROOT, 'test/cli/fixtures', name);
/** Module handler paths as a user types them: relative to the working directory (ROOT). */
const SLOW = './test/cli/fixtures/slow.mjs';
const FAST = './test/cli/fixtures/fast.mjs';
const MISSING = './test/cli/fixtures/no-such-handler.mjs';
const STACK = /\n\s+at /;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Proc {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exit: Promise<Exit>;
  /** What was run, for messages. */
  label: string;
}

interface Done extends Exit {
  stdout: string;
  stderr: string;
}

/** Every child still running, with its exit; afterEach kills them all. */
const live = new Map<ChildProcess, Promise<Exit>>();

describe('the swarm CLI as long-running processes', () => {
  const redis = useRedisServer();
  let raw: Redis;
  let bus: RedisBus;
  let tmp: string;

  /** A node process with the test's Redis in SWARM_REDIS_URL, tracked so afterEach can kill it. */
  function launch(argv: string[], label: string): Proc {
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...process.env, SWARM_REDIS_URL: redis.url },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout?.on('data', (d: Buffer) => {
      out.stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out.stderr += d.toString();
    });
    const exit = new Promise<Exit>((resolve) => {
      child.on('error', () => resolve({ code: null, signal: null }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    live.set(child, exit);
    exit.then(() => live.delete(child));
    child.stdin?.end();
    return {
      child,
      exit,
      label,
      get stdout() {
        return out.stdout;
      },
      get stderr() {
        return out.stderr;
      },
    };
  }

  /** `swarm <args>`, left running. */
  function swarm(args: string[]): Proc {
    return launch([SWARM_BIN, ...args], `swarm ${args.join(' ')}`);
  }

  /** `swarm <args>`, run to its exit. */
  async function cli(args: string[]): Promise<Done> {
    const proc = swarm(args);
    const exit = await proc.exit;
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  }

  /** Polls until `probe` holds; fails at once, with its output, if `proc` exits meanwhile. */
  async function untilOrExit(what: string, probe: () => boolean | Promise<boolean>, proc: Proc) {
    let exited = false;
    void proc.exit.then(() => {
      exited = true;
    });
    await until(
      async () => {
        if (await probe()) return true;
        if (exited)
          throw new Error(
            `${proc.label} exited while waiting for ${what}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`,
          );
        return false;
      },
      what,
      { limitMs: 20_000, everyMs: 50 },
    );
  }

  /** Its exit, or 'still running' when it has not exited within `ms`: a hang, not a timing. */
  function exitWithin(proc: Proc, ms: number): Promise<Exit | 'still running'> {
    return Promise.race([proc.exit, sleep(ms).then(() => 'still running' as const)]);
  }

  /** Task ids whose handler wrote `start` (or `end`) to the marker file, in order. */
  function marked(marker: string, what: 'start' | 'end'): string[] {
    if (!existsSync(marker)) return [];
    return readFileSync(marker, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith(`${what} `))
      .map((line) => line.slice(what.length + 1));
  }

  /** Output hygiene: never a stack trace; with --json, every stdout line is one JSON value. */
  function expectClean(result: { stdout: string; stderr: string }, json: boolean): void {
    expect(result.stderr).not.toMatch(STACK);
    if (!json) return;
    for (const line of result.stdout.split('\n').filter((l) => l.trim() !== ''))
      expect(() => JSON.parse(line), `not JSON: ${line}`).not.toThrow();
  }

  async function post(swarmName: string, type: string, data: JsonValue, description?: string) {
    return (await bus.post(swarmName, type, { data, description })).id;
  }

  beforeAll(async () => {
    raw = new Redis(redis.url);
    bus = new RedisBus({ url: redis.url });
  });

  afterAll(async () => {
    await bus?.close();
    raw?.disconnect();
  });

  beforeEach(async () => {
    await raw.flushall();
    tmp = mkdtempSync(join(tmpdir(), 'swarm-cli-processes-'));
  });

  afterEach(async () => {
    for (const child of live.keys()) child.kill('SIGKILL');
    await Promise.all(live.values());
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('swarm run <topology> without --once', () => {
    it.each(['SIGTERM', 'SIGINT'] as const)(
      'drains the task in flight at %s, exits 0, and leaves the waiting task waiting',
      async (signal) => {
        const marker = join(tmp, 'marker');
        const release = join(tmp, 'release');
        // The handler holds each task until `release` exists, so the signal lands mid-task.
        const data = { marker, release, ms: 20_000 };
        const run = swarm(['run', fixture('slow-worker.yaml'), '--json']);
        const posted = await cli(['post', 'drain', 'slow', '--data', JSON.stringify(data)]);
        expect(posted.code, posted.stderr).toBe(0);
        const first = posted.stdout.trim();
        // Posted after the first, so the pool (concurrency 1) cannot have claimed it yet.
        await post('drain', 'slow', data);

        await untilOrExit(
          'the run to say it is running and the first handler to start',
          () => run.stderr.includes('running;') && marked(marker, 'start').length > 0,
          run,
        );
        run.child.kill(signal);
        await untilOrExit('the run to start draining', () => run.stderr.includes('draining'), run);
        expect(marked(marker, 'start')).toEqual([first]);
        expect(marked(marker, 'end')).toEqual([]);
        writeFileSync(release, '');

        expect(await run.exit).toEqual({ code: 0, signal: null });
        expectClean(run, true);

        // The task in flight at the signal finished and has its one finding; the waiting one was
        // never claimed, so it is still waiting, not stuck in flight with a departed consumer.
        expect(marked(marker, 'end')).toEqual([first]);
        expect(marked(marker, 'start')).toEqual([first]);
        const findings = await bus.readFindings('drain');
        expect(findings.map((f) => f.taskId)).toEqual([first]);
        expect(findings[0]).toMatchObject({ summary: `slow done ${first}`, attempt: 1 });
        expect(await bus.status('drain')).toMatchObject({
          findings: 1,
          deadLetters: 0,
          types: [{ type: 'slow', waiting: 1, inFlight: 0, delayed: 0 }],
        });
      },
    );

    it('prints, with --json, the finding of the task it drained', async () => {
      const marker = join(tmp, 'marker');
      const release = join(tmp, 'release');
      const run = swarm(['run', fixture('slow-worker.yaml'), '--json']);
      const id = await post('drain', 'slow', { marker, release, ms: 20_000 });
      await untilOrExit(
        'the handler to start',
        () => run.stderr.includes('running;') && marked(marker, 'start').length > 0,
        run,
      );
      run.child.kill('SIGTERM');
      await untilOrExit('the run to start draining', () => run.stderr.includes('draining'), run);
      writeFileSync(release, '');
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect((await bus.readFindings('drain')).map((f) => f.taskId)).toEqual([id]);
      // `swarm run` prints each finding of its run as it comes; the drained task's is one of them.
      expect(
        jsonLines<Finding>(run.stdout).map((f) => f.taskId),
        'findings printed by swarm run --json, which drained this task',
      ).toEqual([id]);
    });
  });

  it('swarm findings --follow prints findings live until SIGINT; --from <id> and <time> filter', async () => {
    // A first finding, there before anyone follows.
    await post('fol', 'echo', null, 'first finding');
    const delivery = await firstValueFrom(bus.consume('fol', 'echo'));
    const done = await delivery.complete({ summary: 'first finding' });
    const firstId = done.duplicate ? '' : done.findingId;

    const all = swarm(['findings', 'fol', '--follow', '--json']);
    const after = swarm(['findings', 'fol', '--follow', '--from', firstId, '--json']);
    await untilOrExit(
      'the follower to replay the first finding',
      () => jsonLines(all.stdout).length >= 1,
      all,
    );
    await untilOrExit('the second follower to start', () => after.stderr.includes('transport:'), after);

    // A second finding while they follow: posted, then completed by `swarm worker --once`.
    const second = await post('fol', 'echo', null, 'second finding');
    const worker = await cli(['worker', 'fol', 'echo', '--once', '--wait', '10', '--json']);
    expect(worker.code, worker.stderr).toBe(0);
    expectClean(worker, true);
    const secondId = jsonLines<{ findingId: string }>(worker.stdout)[0]?.findingId as string;

    await untilOrExit('the second finding, printed live', () => jsonLines(all.stdout).length >= 2, all);
    await untilOrExit('the second finding after --from', () => jsonLines(after.stdout).length >= 1, after);
    all.child.kill('SIGINT');
    after.child.kill('SIGINT');
    expect(await all.exit).toEqual({ code: 0, signal: null });
    expect(await after.exit).toEqual({ code: 0, signal: null });
    expectClean(all, true);
    expectClean(after, true);
    expect(jsonLines<Finding>(all.stdout).map((f) => [f.id, f.summary])).toEqual([
      [firstId, 'first finding'],
      [secondId, 'second finding'],
    ]);
    expect(jsonLines<Finding>(after.stdout).map((f) => [f.id, f.taskId])).toEqual([[secondId, second]]);

    // Without --follow: after an id; at or after a time (here the second finding's own ms).
    const secondMs = Number(secondId.split('-')[0]);
    const [byId, atTime, garbage, garbageFollow] = await Promise.all([
      cli(['findings', 'fol', '--from', firstId, '--json']),
      cli(['findings', 'fol', '--from', new Date(secondMs).toISOString(), '--json']),
      cli(['findings', 'fol', '--from', 'garbage', '--json']),
      cli(['findings', 'fol', '--follow', '--from', 'garbage', '--json']),
    ]);
    for (const r of [byId, atTime]) {
      expect(r.code, r.stderr).toBe(0);
      expectClean(r, true);
      expect(jsonLines<Finding>(r.stdout).map((f) => f.id)).toEqual([secondId]);
    }
    for (const r of [garbage, garbageFollow]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        "--from must be a finding id (like 1700000000000-0), a time (ISO or epoch ms), a span ago (30s, 5m, 2h, 1d), 'start' or 'now'",
      );
      expect(r.stderr).toContain('got garbage');
      expect(r.stdout).toBe('');
      expectClean(r, true);
    }
  });

  describe('swarm worker without --once', () => {
    it('processes posted tasks with builtin echo and --concurrency 2; SIGTERM: exits 0 with its stats', async () => {
      const worker = swarm(['worker', 'pool', 'echo', '--concurrency', '2', '--json']);
      const ids = await Promise.all(['a', 'b', 'c', 'd'].map((n) => post('pool', 'echo', { n })));
      await untilOrExit(
        'four findings',
        async () => worker.stderr.includes('running;') && (await bus.readFindings('pool')).length >= 4,
        worker,
      );
      worker.child.kill('SIGTERM');
      expect(await worker.exit).toEqual({ code: 0, signal: null });
      expectClean(worker, true);
      expect(jsonLines(worker.stdout)).toEqual([{ completed: 4, failed: 0, deferred: 0, running: 0 }]);
      const findings = await bus.readFindings('pool');
      expect(findings.map((f) => f.taskId).sort()).toEqual([...ids].sort());
    });

    it('runs two slow tasks at once, and finishes both when SIGTERM comes mid-task', async () => {
      const marker = join(tmp, 'marker');
      const worker = swarm(['worker', 'pool2', 'slow', '--handler', SLOW, '--concurrency', '2']);
      const release = join(tmp, 'release');
      const ids = await Promise.all([1, 2].map(() => post('pool2', 'slow', { marker, release, ms: 20_000 })));
      await untilOrExit(
        'both handlers to start',
        () => worker.stderr.includes('running;') && marked(marker, 'start').length === 2,
        worker,
      );
      // Two started and none ended: they ran at the same time.
      expect(marked(marker, 'end')).toEqual([]);
      worker.child.kill('SIGTERM');
      writeFileSync(release, '');
      expect(await worker.exit).toEqual({ code: 0, signal: null });
      expectClean(worker, false);
      expect(worker.stdout).toContain('drained: 2 completed, 0 failed');
      expect(marked(marker, 'end').sort()).toEqual([...ids].sort());
      expect((await bus.readFindings('pool2')).map((f) => f.taskId).sort()).toEqual([...ids].sort());
      expect((await bus.status('pool2')).types).toMatchObject([{ type: 'slow', waiting: 0, inFlight: 0 }]);
    });
  });

  describe('swarm worker --handler', () => {
    it('--once runs a module handler given as a path', async () => {
      const id = await post('mod', 'fast', null);
      const result = await cli(['worker', 'mod', 'fast', '--once', '--handler', FAST, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expectClean(result, true);
      expect(jsonLines(result.stdout)).toMatchObject([
        { outcome: 'completed', summary: `fast done ${id}`, swarm: 'mod', type: 'fast' },
      ]);
      expect(await bus.readFindings('mod')).toMatchObject([{ taskId: id, summary: `fast done ${id}` }]);
      // It says goodbye before it goes: no consumer is left behind in the group.
      expect((await bus.status('mod')).types).toMatchObject([{ type: 'fast', consumers: 0 }]);
    });

    it('exits 2 for a --handler that is neither builtin nor path, and for a type no builtin handles', async () => {
      await post('mod', 'fast', null);
      const [nonsense, noBuiltin, missing] = await Promise.all([
        cli(['worker', 'mod', 'fast', '--once', '--handler', 'nonsense', '--json']),
        cli(['worker', 'mod', 'mystery', '--once', '--json']),
        cli(['worker', 'mod', 'fast', '--once', '--handler', MISSING, '--json']),
      ]);
      expect(nonsense.code).toBe(2);
      expect(nonsense.stderr).toContain(
        '--handler must be a builtin (redis_health_check, echo, sleep) or a module path, got nonsense',
      );
      expect(noBuiltin.code).toBe(2);
      expect(noBuiltin.stderr).toContain('no builtin handles "mystery": pass --handler');
      // A module path that does not exist: a failure naming it, and the task is left unclaimed.
      expect([1, 2]).toContain(missing.code);
      expect(missing.stderr).toContain('cannot load handler module');
      expect(missing.stderr).toContain('no-such-handler.mjs');
      for (const r of [nonsense, noBuiltin, missing]) {
        expect(r.stdout).toBe('');
        expectClean(r, true);
      }
      expect(await bus.status('mod')).toMatchObject({
        findings: 0,
        types: [{ type: 'fast', waiting: 1, inFlight: 0 }],
      });
    });
  });

  it('exits when it cannot go on, instead of idling or hanging with an open Redis connection', async () => {
    const cases = [
      // A long-running worker whose pool cannot start claims nothing, ever.
      {
        args: ['worker', 'mod', 'fast', '--handler', MISSING],
        code: [1, 2],
        says: 'cannot load handler module',
      },
      { args: ['worker', 'no good', 'echo'], code: [2], says: 'invalid swarm name' },
      // Usage errors found after the Redis connection was opened.
      {
        args: ['worker', 'mod', 'echo', '--concurrency', '0'],
        code: [2],
        says: 'must be a positive integer',
      },
      { args: ['findings', 'no good', '--follow'], code: [2], says: 'invalid swarm name' },
    ];
    const procs = cases.map((c) => swarm([...c.args, '--json']));
    const exits = await Promise.all(procs.map((p) => exitWithin(p, 8_000)));
    const problems: string[] = [];
    cases.forEach((c, i) => {
      const proc = procs[i] as Proc;
      const exit = exits[i];
      if (exit === 'still running')
        problems.push(`${proc.label}: still running after 8 s; stderr: ${proc.stderr.trim()}`);
      else if (exit?.signal !== null || !c.code.includes(exit.code as number))
        problems.push(`${proc.label}: exit ${JSON.stringify(exit)}, expected code ${c.code.join(' or ')}`);
      else if (!proc.stderr.includes(c.says)) problems.push(`${proc.label}: stderr lacks "${c.says}"`);
      expectClean(proc, true);
    });
    expect(problems).toEqual([]);
  });

  it('a worker SIGKILLed mid-task loses its lease; another worker process finishes it: one finding', async () => {
    const marker = join(tmp, 'marker');
    const id = await post('crash', 'slow', { marker, ms: 60_000 });
    // A 1 s lease, so its task is taken over after one second of silence rather than 30: a
    // reclaimer holds each delivery to the lease its owner recorded.
    const a = swarm([
      'worker',
      'crash',
      'slow',
      '--once',
      '--handler',
      SLOW,
      '--lease-ms',
      '1000',
      '--wait',
      '20',
    ]);
    await untilOrExit('worker A to start the task', () => marked(marker, 'start').includes(id), a);
    a.child.kill('SIGKILL');
    expect(await a.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // The task is in flight with a consumer that is gone.
    expect(await bus.status('crash')).toMatchObject({
      findings: 0,
      types: [{ type: 'slow', waiting: 0, inFlight: 1 }],
    });

    // Worker B: another `swarm worker --once`, which reclaims A's task once A's lease has run out.
    const b = launch(
      [
        SWARM_BIN,
        'worker',
        'crash',
        'slow',
        '--once',
        '--handler',
        FAST,
        '--lease-ms',
        '1000',
        '--wait',
        '20',
        '--json',
      ],
      'B',
    );
    expect(await b.exit, b.stderr).toEqual({ code: 0, signal: null });
    expectClean(b, true);
    expect(jsonLines(b.stdout)).toMatchObject([{ outcome: 'completed', summary: `fast done ${id}` }]);

    const findings = await cli(['findings', 'crash', '--json']);
    expect(findings.code, findings.stderr).toBe(0);
    expectClean(findings, true);
    const records = jsonLines<Finding>(findings.stdout);
    expect(records.filter((f) => f.taskId === id)).toHaveLength(1);
    expect(records).toMatchObject([{ taskId: id, summary: `fast done ${id}`, attempt: 2 }]);
    expect(await bus.status('crash')).toMatchObject({
      findings: 1,
      deadLetters: 0,
      types: [{ type: 'slow', waiting: 0, inFlight: 0 }],
    });
    expect(marked(marker, 'end')).toEqual([]);
  });

  describe('swarm status and swarm dlq', () => {
    it('status with no swarm lists every swarm', async () => {
      const empty = await cli(['status', '--json']);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toBe('');
      expect(empty.stderr).toContain('no swarms on this Redis');

      await post('alpha', 'echo', 1);
      await post('beta', 'slow', 1);
      await post('beta', 'slow', 2);
      const [json, human] = await Promise.all([cli(['status', '--json']), cli(['status'])]);
      for (const r of [json, human]) expect(r.code, r.stderr).toBe(0);
      expectClean(json, true);
      expectClean(human, false);
      expect(jsonLines<SwarmStatus>(json.stdout)).toMatchObject([
        { swarm: 'alpha', types: [{ type: 'echo', waiting: 1 }] },
        { swarm: 'beta', types: [{ type: 'slow', waiting: 2 }] },
      ]);
      // One line per swarm (issue #12): the totals over its task types.
      expect(human.stdout).toMatch(
        /^alpha\s+waiting 1 {2}in flight 0 {2}delayed 0 .* findings 0 {2}dead letters 0/m,
      );
      expect(human.stdout).toMatch(/^beta\s+waiting 2 {2}in flight 0 /m);
      expect(human.stdout.trim().split('\n')).toHaveLength(2);
    });

    it('dlq <swarm> retry with no id retries every dead letter of that swarm', async () => {
      /** Posts `n` tasks and fails each once with maxAttempts 1: each becomes a dead letter. */
      async function deadLetters(swarmName: string, n: number): Promise<string[]> {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) ids.push(await post(swarmName, 'boom', i));
        let failed = 0;
        await new Promise<void>((resolve, reject) => {
          const subscription = bus.consume(swarmName, 'boom', { maxAttempts: 1 }).subscribe({
            next: (delivery) => {
              delivery.fail(new Error('boom')).then((result) => {
                if (result.outcome !== 'dead')
                  reject(new Error(`expected a dead letter, got ${result.outcome}`));
                if (++failed === n) {
                  subscription.unsubscribe();
                  resolve();
                }
              }, reject);
            },
            error: reject,
          });
        });
        return ids;
      }
      const ids = await deadLetters('dead', 2);
      await deadLetters('other', 1);

      const retry = await cli(['dlq', 'dead', 'retry', '--json']);
      expect(retry.code, retry.stderr).toBe(0);
      expectClean(retry, true);
      const retried = jsonLines<{ deadLetter: string; taskId: string; type: string }>(retry.stdout);
      expect(retried.map((r) => r.taskId).sort()).toEqual([...ids].sort());
      for (const r of retried) expect(r.type).toBe('boom');
      expect(await bus.status('dead')).toMatchObject({
        deadLetters: 0,
        types: [{ type: 'boom', waiting: 2, inFlight: 0 }],
      });
      expect(await bus.status('other')).toMatchObject({ deadLetters: 1 });

      const [list, unknown] = await Promise.all([
        cli(['dlq', 'dead', 'list', '--json']),
        cli(['dlq', 'dead', 'retry', '1-1', '--json']),
      ]);
      expect(list.code).toBe(0);
      expect(jsonLines<DeadLetter>(list.stdout)).toEqual([]);
      expect(list.stderr).toContain('no dead letters in swarm dead');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no dead letter 1-1 in swarm dead');
      expect(unknown.stdout).toBe('');
      for (const r of [list, unknown]) expectClean(r, true);
    });
  });
});
