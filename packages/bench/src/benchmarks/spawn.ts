import { execFile, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Finding, RedisBus } from '@swarm/core';
import { WorkerPool } from '@swarm/worker';
import { filter, firstValueFrom, share } from 'rxjs';
import { type Benchmark, Rows, runName } from '../benchmark';
import { type Summary, summarize } from '../stats';

/**
 * What starting a worker costs, beside the bare cost of starting the program it runs:
 * (a) a running `command` pool executing a trivial program per task: post → finding, against
 *     spawning that program alone;
 * (b) `swarm worker --once` as a fresh process (the bundled CLI): post → finding, against
 *     `node -e 0`. This is what a coding assistant's task tool pays per spawned worker;
 * (c) `swarm claim` then `swarm report`, two fresh processes: post → finding, against `node -e 0`
 *     twice. This is what an agent pays per task when it does the work itself;
 * (d) `swarm --version`, run directly and through `pnpm swarm`: the CLI's own start.
 */

const run = promisify(execFile);
const CLI_DIR = fileURLToPath(new URL('../../../cli/', import.meta.url));
const ROOT = join(CLI_DIR, '../..');
const CLI = join(CLI_DIR, 'dist/swarm.mjs');

/** Runs a process to its exit 0 and returns what it printed. */
function runProcess(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

async function timeProcess(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  await runProcess(command, args, env);
  return performance.now() - start;
}

async function samplesOf(count: number, warmup: number, op: () => Promise<number>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await op();
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await op());
  return out;
}

/**
 * Samples of several operations taken in turn, one of each per round, so that a machine whose
 * load changes during the run weighs on the swarm process and its bare baseline alike.
 */
async function samplesInTurn(
  count: number,
  warmup: number,
  ops: (() => Promise<number>)[],
): Promise<number[][]> {
  const out = ops.map(() => [] as number[]);
  for (let round = 0; round < warmup + count; round++)
    for (const [i, op] of ops.entries()) {
      const ms = await op();
      if (round >= warmup) out[i]?.push(ms);
    }
  return out;
}

export const spawnBench: Benchmark = {
  name: 'spawn',
  summary:
    'worker start cost: a command pool per task, `swarm worker --once` and `swarm claim` + `swarm report` as fresh processes, `swarm --version`',
  flags: {
    samples: { default: 50, help: 'samples per measurement' },
    warmup: { default: 5, help: 'unmeasured samples first' },
  },
  async run(ctx) {
    const samples = ctx.int('samples');
    const warmup = ctx.int('warmup');
    ctx.log('building the CLI bundle (packages/cli/build.mjs)');
    await run(process.execPath, [join(CLI_DIR, 'build.mjs')]);
    // Stored afresh by this run's warmup, not by whatever ran the bundle last.
    rmSync(join(CLI_DIR, 'dist/code-cache'), { recursive: true, force: true });
    const program = join(tmpdir(), `swarm-bench-true-${process.pid}.mjs`);
    writeFileSync(program, 'process.stdout.write(JSON.stringify({ summary: "ok" }));\n');
    const bus = new RedisBus({ url: ctx.redisUrl });
    const out = new Rows('spawn');
    const swarm = runName('spawn');
    // One findings$ subscription for the whole run, from the start of this run's fresh swarm: one
    // per sample would open its connection inside the timed window, beside the process measured.
    const findings$ = bus.findings$(swarm, { from: 'start' }).pipe(share());
    const listening = findings$.subscribe();
    const finding = (taskId: string) =>
      firstValueFrom(findings$.pipe(filter((f: Finding) => f.taskId === taskId)));
    try {
      // (a) a running command pool
      const pool = new WorkerPool({
        bus,
        swarm,
        baseDir: tmpdir(),
        spec: {
          type: 'cmd',
          handler: { command: [process.execPath, program] },
          concurrency: 1,
          leaseMs: 30_000,
          timeoutMs: 30_000,
          maxAttempts: 1,
          backoff: { baseMs: 1_000, maxMs: 1_000 },
          isolation: 'none',
        },
      });
      pool.start();
      const bareProgram = summarize(
        await samplesOf(samples, warmup, () => timeProcess(process.execPath, [program])),
      );
      const pooled = summarize(
        await samplesOf(samples, warmup, async () => {
          const start = performance.now();
          const seen = finding((await bus.post(swarm, 'cmd', {})).id);
          await seen;
          return performance.now() - start;
        }),
      );
      await pool.stop();
      out.addLatency('program', 'bare_start_', bareProgram);
      out.addLatency('swarm', 'command_pool_', pooled);
      out.add('swarm', 'command_pool_overhead_p50_ms', pooled.p50 - bareProgram.p50, 'ms');
      ctx.log(
        `command pool: p50 ${pooled.p50.toFixed(1)} ms vs bare program ${bareProgram.p50.toFixed(1)} ms`,
      );

      // (b) a fresh `swarm worker --once` process per task
      const env = { SWARM_REDIS_URL: ctx.redisUrl };
      const [bareNode, once] = (
        await samplesInTurn(samples, warmup, [
          () => timeProcess(process.execPath, ['-e', '0']),
          async () => {
            const start = performance.now();
            const posted = await bus.post(swarm, 'echo', { description: 'ping' });
            const seen = finding(posted.id);
            await timeProcess(
              process.execPath,
              [CLI, 'worker', swarm, 'echo', '--once', '--wait', '10'],
              env,
            );
            await seen;
            return performance.now() - start;
          },
        ])
      ).map(summarize) as [Summary, Summary];
      out.addLatency('node', 'bare_start_', bareNode);
      out.addLatency('swarm', 'worker_once_', once);
      out.add('swarm', 'worker_once_overhead_p50_ms', once.p50 - bareNode.p50, 'ms');
      ctx.log(`worker --once: p50 ${once.p50.toFixed(1)} ms vs node -e 0 ${bareNode.p50.toFixed(1)} ms`);

      // (c) `swarm claim` + `swarm report`, a fresh process each
      const [bareNodeTwice, claimReport] = (
        await samplesInTurn(samples, warmup, [
          async () => {
            const start = performance.now();
            await runProcess(process.execPath, ['-e', '0']);
            await runProcess(process.execPath, ['-e', '0']);
            return performance.now() - start;
          },
          async () => {
            const start = performance.now();
            const posted = await bus.post(swarm, 'claimed', { description: 'ping' });
            const seen = finding(posted.id);
            const claimed = await runProcess(
              process.execPath,
              [CLI, 'claim', swarm, 'claimed', '--wait', '10', '--json'],
              env,
            );
            const { claim } = JSON.parse(claimed) as { claim: string };
            await runProcess(process.execPath, [CLI, 'report', claim, '--summary', 'pong'], env);
            await seen;
            return performance.now() - start;
          },
        ])
      ).map(summarize) as [Summary, Summary];
      out.addLatency('node', 'bare_start_twice_', bareNodeTwice);
      out.addLatency('swarm', 'claim_report_', claimReport);
      out.add('swarm', 'claim_report_overhead_p50_ms', claimReport.p50 - bareNodeTwice.p50, 'ms');
      ctx.log(
        `claim + report: p50 ${claimReport.p50.toFixed(1)} ms vs node -e 0 twice ${bareNodeTwice.p50.toFixed(1)} ms`,
      );

      // (d) the CLI's own start
      const [version, pnpmVersion] = (
        await samplesInTurn(samples, warmup, [
          () => timeProcess(process.execPath, [CLI, '--version']),
          () => timeProcess('pnpm', ['swarm', '--version']),
        ])
      ).map(summarize) as [Summary, Summary];
      out.addLatency('swarm', 'version_', version);
      out.addLatency('swarm', 'pnpm_version_', pnpmVersion);
      ctx.log(`--version: p50 ${version.p50.toFixed(1)} ms, through pnpm ${pnpmVersion.p50.toFixed(1)} ms`);
    } finally {
      listening.unsubscribe();
      await bus.close();
    }
    return {
      rows: out.rows,
      notes: [
        `${samples} samples each after ${warmup} warmup; post → finding seen by a findings$ subscriber; (b), (c) and (d) take their samples in turn with their baselines`,
        '(a) a running command pool (concurrency 1) spawning `node <trivial program>` per task, beside that program alone',
        '(b) `node packages/cli/dist/swarm.mjs worker <swarm> echo --once` per task (bundled CLI), beside `node -e 0`',
        '(c) `swarm claim <swarm> claimed --json` then `swarm report <claim> --summary pong` per task, beside `node -e 0` twice',
        '(d) `node packages/cli/dist/swarm.mjs --version`, and `pnpm swarm --version` (wall, pnpm included)',
        "the warmup runs store each verb's V8 code cache (packages/cli/dist/code-cache), as a user's first successful run does",
        'overhead = swarm p50 - bare p50',
      ],
    };
  },
};
