import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeadLetter, type Finding, RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, jsonLines, ROOT, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { isAlive } from '../worker/helpers';

/**
 * Issue #5: command handlers that misbehave, through the real CLI path: `swarm run
 * <topology> --once --json` against a private Redis, one topology per fault (test/faults/fixtures),
 * each with healthy tasks beside the faulty one. For each: the faulty task gets a specific outcome
 * (a dead letter with its reason, or a finding where the protocol says plain text is a finding), the
 * run exits, the healthy tasks get their findings, and no process the command started is left.
 * test/worker/command.test.ts covers the same faults on an in-process pool.
 */

process.env.SWARM_LOG_LEVEL ??= 'silent';

const FIXTURES = join(ROOT, 'test/faults/fixtures');
const STACK = /\n\s+at /;

/** Live processes whose argv contains `marker` (read from /proc). */
function processesWith(marker: string): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv.includes(marker) && isAlive(Number(entry))) found.push({ pid: Number(entry), argv });
  }
  return found;
}

interface Run extends CliResult {
  swarm: string;
  marker: string;
  ms: number;
  /** The finding records printed on stdout. */
  printed: Finding[];
  /** The dead letters printed on stdout (`{ deadLetter, error, … }`). */
  printedDead: { deadLetter: string; error: string }[];
  findings: Finding[];
  deadLetters: DeadLetter[];
  /** Every process a faulty command started, as it recorded them: its own pid and its child's. */
  started: { mode: string; pid: number; child: number | null }[];
}

describe('command handlers that misbehave, through `swarm run --once`', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let pidRoot: string;
  let runs = 0;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    pidRoot = mkdtempSync(join(tmpdir(), 'swarm-fault-pids-'));
  });

  afterAll(async () => {
    await bus?.close();
    if (pidRoot) rmSync(pidRoot, { recursive: true, force: true });
  });

  /** Runs a fixture topology on a fresh swarm with a fresh marker, to the end. */
  async function run(topology: string): Promise<Run> {
    runs++;
    const swarm = `fault-${runs}-${process.pid}`;
    const marker = `swarm-fault-marker-${process.pid}-${runs}-${Math.random().toString(36).slice(2, 8)}`;
    const pids = join(pidRoot, String(runs));
    mkdirSync(pids);
    const started = Date.now();
    const result = await swarmCli(['run', join(FIXTURES, topology), '--once', '--json'], {
      env: {
        SWARM_REDIS_URL: redis.url,
        SWARM_LOG_LEVEL: 'warn',
        SWARM_FAULT_SWARM: swarm,
        SWARM_FAULT_MARKER: marker,
        SWARM_FAULT_PIDS: pids,
        SWARM_FAULT_NODE: process.execPath,
      },
      timeoutMs: 50_000,
    });
    const ms = Date.now() - started;
    const records = jsonLines(result.stdout);
    const printed = records.filter((r) => !('deadLetter' in r)) as unknown as Finding[];
    const printedDead = records.filter((r) => 'deadLetter' in r) as unknown as Run['printedDead'];
    const recorded = existsSync(pids)
      ? readdirSync(pids).map(
          (f) => JSON.parse(readFileSync(join(pids, f), 'utf8')) as Run['started'][number],
        )
      : [];
    return {
      ...result,
      swarm,
      marker,
      ms,
      printed,
      printedDead,
      findings: await bus.readFindings(swarm),
      deadLetters: await bus.deadLetters(swarm),
      started: recorded,
    };
  }

  /**
   * The run exited cleanly (1 when a task was dead-lettered), the healthy tasks have findings, and
   * nothing the command started is left.
   */
  function expectCleanRun(r: Run, outcome: { tasks: number; findings: number; dead: number }): void {
    expect(r.code, r.stderr).toBe(outcome.dead > 0 ? 1 : 0);
    expect(r.stderr).toContain(
      `done: ${outcome.tasks} task(s), ${outcome.findings} finding(s), ${outcome.dead} dead letter(s)`,
    );
    expect(r.stderr).not.toMatch(STACK);
    expect(r.findings).toHaveLength(outcome.findings);
    expect(r.deadLetters).toHaveLength(outcome.dead);
    // Every finding is printed once, as JSON, on stdout.
    expect(r.printed.map((f) => f.id)).toEqual(r.findings.map((f) => f.id));
    // And every dead letter, with its last error.
    expect(r.printedDead).toEqual(
      r.deadLetters.map((d) =>
        expect.objectContaining({ deadLetter: d.id, error: d.errors.at(-1)?.message ?? d.reason }),
      ),
    );
    const healthy = r.findings.filter((f) => f.type === 'healthy').map((f) => f.summary);
    expect(healthy.sort()).toEqual(['healthy one', 'healthy two']);
    for (const { pid, child } of r.started) {
      expect(isAlive(pid), `command pid ${pid}`).toBe(false);
      if (child !== null) expect(isAlive(child), `its child, pid ${child}`).toBe(false);
    }
    expect(processesWith(r.marker)).toEqual([]);
  }

  it('finds a live process by the marker in its argv (the check every run ends with)', async () => {
    const marker = `swarm-fault-marker-${process.pid}-selfcheck`;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { stdio: 'ignore' });
    try {
      expect(processesWith(marker).map((p) => p.pid)).toEqual([child.pid]);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(processesWith(marker)).toEqual([]);
  });

  it('output that is not JSON is the finding, as text (invalid UTF-8 as U+FFFD); printing nothing is a failure', async () => {
    const r = await run('not-json.yaml');
    expectCleanRun(r, { tasks: 4, findings: 3, dead: 1 });
    const garbage = r.findings.find((f) => f.type === 'garbage');
    expect(garbage).toMatchObject({ summary: '{not json ]] \ufffd\ufffd 😀', data: null, attempt: 1 });
    const [dead] = r.deadLetters;
    expect(dead?.type).toBe('silent');
    expect(dead?.reason).toBe(
      'failed 2 of 2 attempts: command printed nothing: print a summary, or a JSON object { summary, data? }, on stdout',
    );
    expect(dead?.errors.map((e) => e.attempt)).toEqual([1, 2]);
    expect(r.started.map((s) => s.mode).sort()).toEqual(['garbage', 'silent', 'silent']);
  });

  it('output without end is cut at 1 MiB: the process group is killed and the task dead-lettered', async () => {
    const r = await run('too-large.yaml');
    expectCleanRun(r, { tasks: 3, findings: 2, dead: 1 });
    const [dead] = r.deadLetters;
    expect(dead?.type).toBe('flood');
    expect(dead?.reason).toBe('failed 2 of 2 attempts: output over 1 MiB: the process group was killed');
    expect(dead?.errors.map((e) => e.message)).toEqual([
      'output over 1 MiB: the process group was killed',
      'output over 1 MiB: the process group was killed',
    ]);
    // Two attempts, each a command with a child of its own: all four are gone.
    expect(r.started).toHaveLength(2);
    expect(r.started.every((s) => typeof s.child === 'number')).toBe(true);
  });

  it('a program that never ends is killed with its process group at timeoutMs and dead-lettered', async () => {
    const r = await run('never-ends.yaml');
    expectCleanRun(r, { tasks: 3, findings: 2, dead: 1 });
    const [dead] = r.deadLetters;
    expect(dead?.type).toBe('stuck');
    expect(dead?.reason).toBe('failed 2 of 2 attempts: timed out after 2000 ms');
    expect(dead?.errors.map((e) => e.message)).toEqual([
      'timed out after 2000 ms',
      'timed out after 2000 ms',
    ]);
    expect(r.started).toHaveLength(2);
    expect(r.started.every((s) => typeof s.child === 'number')).toBe(true);
    // Two timeouts, and not much more: the run did not wait on the killed processes.
    expect(r.ms).toBeLessThan(30_000);
  });

  const ghost = { reason: '' };

  it('a program whose interpreter does not exist fails each attempt with ENOENT and is dead-lettered', async () => {
    const r = await run('missing-interpreter.yaml');
    expectCleanRun(r, { tasks: 3, findings: 2, dead: 1 });
    const [dead] = r.deadLetters;
    const program = join(FIXTURES, 'commands/no-interpreter.sh');
    expect(dead?.type).toBe('ghost');
    ghost.reason = dead?.reason ?? '';
    expect(ghost.reason).toBe(
      `failed 2 of 2 attempts: cannot run ${program}: the interpreter on its #! line was not found (ENOENT)`,
    );
    expect(dead?.errors).toHaveLength(2);
    expect(existsSync(program)).toBe(true);
  });

  it('a program that is not on PATH: `swarm run` refuses the topology (exit 2, file:line:col) and starts nothing', async () => {
    const r = await run('missing-program.yaml');
    const file = join(FIXTURES, 'missing-program.yaml');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      `swarm: ${file}:12:29: command not found: swarm-fault-no-such-program (at swarms.${r.swarm}.workers[0].handler.command)\n`,
    );
    expect(r.stdout).toBe('');
    expect(await bus.swarms()).not.toContain(r.swarm);
    expect(processesWith(r.marker)).toEqual([]);
  });
});
