import { join } from 'node:path';
import type { Finding } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { jsonLines, ROOT, SWARM_BIN, startSwarmCli, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

const example = (name: string) => join(ROOT, 'config/examples', name);

describe('swarm run', () => {
  const redis = useRedisServer();

  it('runs hello.yaml embedded with no Redis and exits when every task is done', async () => {
    const result = await swarmCli(['run', example('hello.yaml'), '--once', '--json']);
    expect(result.stderr).toContain('transport: embedded');
    expect(result.code).toBe(0);
    const findings = jsonLines<Finding>(result.stdout);
    expect(findings).toHaveLength(4);
    expect(findings.map((f) => f.summary)).toContain('The shard holds the large context and posts tasks.');
    expect(new Set(findings.map((f) => f.taskId)).size).toBe(4);
    expect(result.stderr).toContain('done: 4 task(s), 4 finding(s), 0 dead letter(s)');
  });

  it('runs the health check on Redis, where the finding outlives the run', async () => {
    const env = { SWARM_REDIS_URL: redis.url };
    const result = await swarmCli(['run', example('health-check.yaml'), '--once'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Redis ping successful: PONG');
    const later = await swarmCli(['findings', 'health', '--json'], { env });
    expect(jsonLines(later.stdout)[0]).toMatchObject({
      summary: 'Redis ping successful: PONG',
      parent: 'memory',
    });
  });

  it('runs command handlers with the shard context in a file', async () => {
    const result = await swarmCli(['run', example('command-worker.yaml'), '--once', '--json']);
    expect(result.code).toBe(0);
    const findings = jsonLines<{ data: { word: string; count: number } }>(result.stdout);
    expect(findings.map((f) => f.data.word).sort()).toEqual(['redis', 'worker']);
    for (const f of findings) expect(f.data.count).toBeGreaterThan(0);
  });

  it('runs the two-swarm example: ops learns from research and summarises it', async () => {
    const env = { SWARM_REDIS_URL: redis.url };
    const result = await swarmCli(['run', example('cross-swarm.yaml'), '--once', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const printed = jsonLines<Finding>(result.stdout);
    expect(printed.filter((f) => f.swarm === 'research')).toHaveLength(2);
    const [summary] = printed.filter((f) => f.swarm === 'ops');
    expect(summary).toMatchObject({
      type: 'summary',
      workerId: 'digest',
      data: { count: 2, bySwarm: { research: 2 } },
    });
    // The runbook shard folded research's findings into its context: workers it sends read them.
    const status = JSON.parse((await swarmCli(['status', 'ops', '--json'], { env })).stdout);
    const runbook = status.shards.find((s: { id: string }) => s.id === 'runbook');
    const context = await swarmCli(['context', 'get', 'ops', runbook.context], { env });
    expect(context.stdout).toContain('=== findings from other swarms ===');
    expect(context.stdout).toContain('[research/ask] Findings live in a durable stream');
    // The durable subscribers' cursors sit in the source swarm.
    const cursors = JSON.parse(
      (await swarmCli(['status', 'research', '--json'], { env })).stdout,
    ).subscribers;
    expect(cursors.map((c: { name: string }) => c.name)).toEqual(['ops.digest', 'ops.runbook']);
  });

  it('runs a pool of partitions: 3, every task done once, its findings in every partition (issue #11)', async () => {
    const env = { SWARM_REDIS_URL: redis.url };
    const topology = join(ROOT, 'test/cli/fixtures/partitioned.yaml');
    const result = await swarmCli(['run', topology, '--once', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('done: 6 task(s), 6 finding(s), 0 dead letter(s)');
    const printed = jsonLines<Finding>(result.stdout);
    expect(printed).toHaveLength(6);
    expect(new Set(printed.map((f) => f.taskId)).size).toBe(6);
    expect(new Set(printed.map((f) => (f.id.split(':').length === 2 ? f.id.split(':')[0] : '0')))).toEqual(
      new Set(['0', '1', '2']),
    );
    const status = JSON.parse((await swarmCli(['status', 'spread', '--json'], { env })).stdout);
    expect(status.findings).toBe(6);
    expect(status.types).toEqual([expect.objectContaining({ type: 'ask', waiting: 0, inFlight: 0 })]);
  });

  it('exits 2 with file:line:col for an invalid topology', async () => {
    const result = await swarmCli(['run', join(ROOT, 'test/fixtures/topologies/bad/unknown-builtin.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown-builtin\.yaml:6:29: "ecko" is not one of/);
  });
});

describe('swarm run on a terminal', () => {
  it('draws a live progress line: done/posted, findings/s, failures', async () => {
    const { spawnSync } = await import('node:child_process');
    const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
    expect(probe.status, 'the `script` command (util-linux) gives the CLI a real terminal').toBe(0);
    const command = `${process.execPath} ${SWARM_BIN} run config/examples/hello.yaml --once`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SWARM_REDIS_URL: '' },
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\r4\/4 done {2}[\d.]+ findings\/s {2}0 failed/);
  });
});

describe('swarm run without --once, embedded', () => {
  /** Starting the bundled CLI and its actors takes seconds on a loaded machine. */
  const STARTING = { limitMs: 30_000, everyMs: 50 };

  it('keeps running until told to stop, then drains and exits 0', async () => {
    const run = startSwarmCli(['run', 'config/examples/hello.yaml']);
    const { child } = run;
    try {
      await until(
        () => run.stderr.includes('running;'),
        () => `the run to start: ${run.stderr}`,
        STARTING,
      );
      // Alive well after its tasks are done: nothing but the run itself holds it open.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(child.exitCode).toBeNull();
      child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stdout.match(/^\S+Z {2}ask {2}/gm)).toHaveLength(4);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drains the task in flight and exits 0 on SIGTERM while a shard is still gathering', async () => {
    const run = startSwarmCli(['run', 'test/cli/fixtures/slow-shard.yaml', '--json']);
    const { child } = run;
    try {
      await until(
        () => run.stderr.includes('running;'),
        () => `the run to start: ${run.stderr}`,
        STARTING,
      );
      await new Promise((r) => setTimeout(r, 500)); // the first task is running
      child.kill('SIGTERM');
      expect(await run.exited, run.stderr).toBe(0);
      const printed = run.stdout.split('\n').filter((l) => l.startsWith('{'));
      // The task that was running when the signal came finished and was printed.
      expect(printed.length).toBeGreaterThanOrEqual(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
