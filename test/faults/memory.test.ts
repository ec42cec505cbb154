import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { report, UNDER_LOAD, Workers } from './support';

/** How many tasks; FAULTS_MEMORY_TASKS lowers it for a quick local run. */
const TOTAL = Number(process.env.FAULTS_MEMORY_TASKS ?? 1_000_000);
/** What Redis may keep after the run beyond its baseline: the kept findings and stream skeletons. */
const REDIS_BOUND_BYTES = 8 * 1024 * 1024;
/** How much the worker's resident memory may grow after the first quarter of the run. */
const RSS_BOUND_BYTES = 48 * 1024 * 1024;

const usedMemory = async (admin: Redis) =>
  Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? Number.NaN);
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

/**
 * Issue #5: a million tasks through one swarm and one `swarm worker` process keeping the last 1,000
 * findings. Redis must come back to its baseline within a stated bound, and the worker's memory
 * must stay flat.
 */
describe(`memory over ${TOTAL.toLocaleString('en')} tasks`, () => {
  const redis = useRedisServer();

  it('Redis returns to its baseline and the worker RSS stays flat', async () => {
    const swarm = 'million';
    const admin = new Redis(redis.url, { protocol: 2 });
    const bus = new RedisBus({ url: redis.url });
    const workers = new Workers(redis.url, swarm, 'echo', [
      '--handler',
      'echo',
      '--concurrency',
      '64',
      '--keep-findings',
      '1000',
    ]);
    try {
      const [worker] = workers.start(1);
      if (!worker?.child.pid) throw new Error('no worker');
      const pid = worker.child.pid;
      await until(
        () => worker.stderr.includes('running'),
        () => 'the worker to start',
        UNDER_LOAD,
      );
      const baseline = await usedMemory(admin);
      const started = Date.now();
      const backlog = async () => {
        const type = (await bus.status(swarm)).types[0];
        return type ? type.waiting + type.inFlight + type.delayed : 0;
      };
      // The worker's RSS, sampled through the run once a quarter is done (warm-up excluded).
      const rss: number[] = [];
      let peakRedis = baseline;
      for (let posted = 0; posted < TOTAL; ) {
        // Post ahead of the worker by at most 50,000: a queue, not a flood.
        if (posted % 20_000 === 0) {
          while ((await backlog()) > 50_000) await sleep(20);
          peakRedis = Math.max(peakRedis, await usedMemory(admin));
          if (posted - (await backlog()) >= TOTAL / 4) rss.push(rssOf(pid));
        }
        const n = Math.min(1_000, TOTAL - posted);
        await bus.postBatch(
          swarm,
          'echo',
          Array.from({ length: n }, (_, k) => ({ data: posted + k })),
        );
        posted += n;
      }
      await until(
        async () => (await backlog()) === 0,
        () => 'the backlog to drain',
        600_000,
      );
      const seconds = (Date.now() - started) / 1_000;
      rss.push(rssOf(pid));
      // Acked entries are trimmed in bulk as completions come; the post tokens expire after 60 s.
      await sleep(1_500);
      const after = await usedMemory(admin);
      const findingsKept = Number(await admin.xlen(`swarm:{${swarm}}:findings`));
      const streamLength = Number(await admin.xlen(`swarm:{${swarm}}:tasks:echo`));
      const mb = (b: number) => (b / 1024 / 1024).toFixed(2);
      report('memory', {
        tasks: TOTAL,
        tasksPerSec: Math.round(TOTAL / seconds),
        redisBaselineMB: mb(baseline),
        redisPeakMB: mb(peakRedis),
        redisAfterMB: mb(after),
        findingsKept,
        taskStreamLength: streamLength,
        workerRssFirstMB: mb(rss[0] ?? 0),
        workerRssMaxMB: mb(Math.max(...rss)),
        workerRssLastMB: mb(rss.at(-1) ?? 0),
        rssSamples: rss.length,
      });
      expect(findingsKept).toBe(1_000);
      expect(after - baseline).toBeLessThan(REDIS_BOUND_BYTES);
      expect(rss.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...rss) - (rss[0] as number)).toBeLessThan(RSS_BOUND_BYTES);
    } finally {
      await workers.stopAll();
      admin.disconnect();
      await bus.close();
    }
  });
});
