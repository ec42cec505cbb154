import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { serveMetrics, swarmMetricsEndpoint } from '@swarm/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, ROOT, startSwarmCli, swarmCli } from '../support/cli';
import { parseExposition, sample } from '../support/prometheus';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Issue #12, metrics: counters match what a run did. Tasks posted by separate `swarm post`
 * processes, run by a `swarm worker --metrics` process where some fail every attempt; the
 * swarm-wide scrape (what the dashboard's /metrics serves) and the worker's own endpoint are read
 * over HTTP and compared number for number.
 */

process.env.SWARM_LOG_LEVEL ??= 'silent';

const HANDLER = join(ROOT, 'test/metrics/fixtures/poison.mjs');
const N = 7;
const K = 2;
const MAX_ATTEMPTS = 2;

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

describe('metrics of real processes', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  const running: CliProcess[] = [];

  beforeAll(() => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await bus.close();
  });

  it('counts N posts from N processes, N-k completions and k dead letters, in the swarm and in the worker', async () => {
    const swarm = 'counted';
    for (let i = 0; i < N; i++) {
      const data = JSON.stringify(i < K ? { poison: true, i } : { i });
      const posted = await swarmCli(['post', swarm, 'work', '--data', data, '--redis', redis.url]);
      expect(posted.code, posted.stderr).toBe(0);
    }
    const dashboard = await serveMetrics(swarmMetricsEndpoint(bus), { port: 0, host: '127.0.0.1' });
    try {
      const before = await scrape(dashboard.url);
      const work = { swarm, type: 'work' };
      expect(before.get(sample('swarm_tasks_posted_total', work))).toBe(N);
      expect(before.get(sample('swarm_queue_waiting', work))).toBe(N);

      const worker = startSwarmCli([
        'worker',
        swarm,
        'work',
        '--handler',
        HANDLER,
        '--concurrency',
        '3',
        '--max-attempts',
        String(MAX_ATTEMPTS),
        '--metrics',
        '127.0.0.1:0',
        '--redis',
        redis.url,
      ]);
      running.push(worker);
      worker.child.stdin.end();
      await until(
        () => /metrics: (http:\S+)/.test(worker.stderr),
        () => `the metrics URL in ${worker.stderr}`,
        30_000,
      );
      const workerUrl = /metrics: (http:\S+)/.exec(worker.stderr)?.[1] as string;
      // Backoff puts the second attempts a second or more away: wait for the state, not a time.
      await until(
        async () => (await scrape(dashboard.url)).get(sample('swarm_tasks_dead_lettered_total', work)) === K,
        'the poisoned tasks to be dead-lettered',
        60_000,
      );
      await until(
        async () => (await scrape(dashboard.url)).get(sample('swarm_tasks_completed_total', work)) === N - K,
        'the other tasks to complete',
        60_000,
      );

      const swarmWide = await scrape(dashboard.url);
      expect(swarmWide.get(sample('swarm_tasks_posted_total', work))).toBe(N);
      expect(swarmWide.get(sample('swarm_tasks_completed_total', work))).toBe(N - K);
      expect(swarmWide.get(sample('swarm_tasks_failed_total', work))).toBe(K * MAX_ATTEMPTS);
      expect(swarmWide.get(sample('swarm_tasks_dead_lettered_total', work))).toBe(K);
      expect(swarmWide.get(sample('swarm_leases_reclaimed_total', work))).toBe(0);
      expect(swarmWide.get(sample('swarm_queue_waiting', work))).toBe(0);
      expect(swarmWide.get(sample('swarm_tasks_in_flight', work))).toBe(0);
      expect((await bus.deadLetters(swarm)).length).toBe(K);

      const own = await scrape(workerUrl);
      // The worker posted nothing: the posts were other processes'.
      expect(own.get(sample('swarm_tasks_posted_total', work)) ?? 0).toBe(0);
      expect(own.get(sample('swarm_tasks_completed_total', work))).toBe(N - K);
      expect(own.get(sample('swarm_tasks_failed_total', work))).toBe(K * MAX_ATTEMPTS);
      expect(own.get(sample('swarm_tasks_dead_lettered_total', work))).toBe(K);
      expect(own.get(sample('swarm_tasks_in_flight', work))).toBe(0);
      expect(own.get(sample('swarm_task_duration_seconds_count', work))).toBe(N - K);
      expect(own.get(sample('swarm_task_duration_seconds_bucket', { ...work, le: '+Inf' }))).toBe(N - K);
      expect(own.get(sample('swarm_queue_waiting', work))).toBe(0);

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await dashboard.close();
    }
  });

  it('`swarm run --metrics` counts what its own process posted, completed and dead-lettered', async () => {
    const run = startSwarmCli([
      'run',
      join(ROOT, 'test/metrics/fixtures/one.yaml'),
      '--metrics',
      '127.0.0.1:0',
    ]);
    running.push(run);
    run.child.stdin.end();
    await until(
      () => /metrics: (http:\S+)/.test(run.stderr),
      () => `the metrics URL in ${run.stderr}`,
      30_000,
    );
    const url = /metrics: (http:\S+)/.exec(run.stderr)?.[1] as string;
    const echo = { swarm: 'counted-run', type: 'echo' };
    const work = { swarm: 'counted-run', type: 'work' };
    await until(
      async () => {
        const now = await scrape(url);
        return (
          now.get(sample('swarm_tasks_completed_total', echo)) === 3 &&
          now.get(sample('swarm_tasks_dead_lettered_total', work)) === 1
        );
      },
      'three completions and one dead letter',
      60_000,
    );
    const samples = await scrape(url);
    expect(samples.get(sample('swarm_tasks_posted_total', echo))).toBe(3);
    expect(samples.get(sample('swarm_tasks_posted_total', work))).toBe(1);
    expect(samples.get(sample('swarm_tasks_failed_total', work))).toBe(2);
    expect(samples.get(sample('swarm_tasks_completed_total', work)) ?? 0).toBe(0);
    expect(samples.get(sample('swarm_task_duration_seconds_count', echo))).toBe(3);
    expect(samples.get(sample('swarm_queue_waiting', echo))).toBe(0);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it("the dashboard's /metrics counts three posts from three CLI calls as 3", async () => {
    const swarm = 'three-posts';
    for (let i = 0; i < 3; i++) {
      const posted = await swarmCli(['post', swarm, 'ask', '--redis', redis.url]);
      expect(posted.code, posted.stderr).toBe(0);
    }
    const dashboard = startSwarmCli(['dashboard', '--port', '0', '--redis', redis.url]);
    running.push(dashboard);
    dashboard.child.stdin.end();
    await until(
      () => /dashboard on (http:\S+)/.test(dashboard.stderr),
      () => `the URL in ${dashboard.stderr}`,
      30_000,
    );
    const base = /dashboard on (http:\S+)/.exec(dashboard.stderr)?.[1] as string;
    const samples = await scrape(new URL('metrics', base).href);
    expect(samples.get(sample('swarm_tasks_posted_total', { swarm, type: 'ask' }))).toBe(3);
    expect(samples.get(sample('swarm_queue_waiting', { swarm, type: 'ask' }))).toBe(3);
    expect(samples.get(sample('swarm_tasks_completed_total', { swarm, type: 'ask' }))).toBe(0);
    dashboard.child.kill('SIGTERM');
    await dashboard.exited;
  });

  it('refuses a --metrics that is no port with exit 2, and a taken port with exit 1, saying which', async () => {
    const bad = await swarmCli([
      'worker',
      's',
      'work',
      '--handler',
      HANDLER,
      '--metrics',
      'nine',
      '--redis',
      redis.url,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--metrics "nine" is not a port: give a port (9464) or host:port (127.0.0.1:9464)',
    );
    const once = await swarmCli([
      'worker',
      's',
      'work',
      '--handler',
      HANDLER,
      '--once',
      '--metrics',
      '9464',
      '--redis',
      redis.url,
    ]);
    expect(once.code).toBe(2);
    expect(once.stderr).toContain('--metrics needs a long-running worker: drop --once');
    const taken = await serveMetrics(swarmMetricsEndpoint(bus), { port: 0, host: '127.0.0.1' });
    try {
      const clash = await swarmCli([
        'run',
        join(ROOT, 'test/metrics/fixtures/one.yaml'),
        '--metrics',
        `127.0.0.1:${taken.port}`,
      ]);
      expect(clash.code).toBe(1);
      expect(clash.stderr).toContain(
        `cannot serve metrics on 127.0.0.1:${taken.port}: another process listens there`,
      );
      expect(clash.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await taken.close();
    }
  });
});
