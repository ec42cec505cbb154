import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { type BroadcastMessage, clockMs } from '../broadcast-messages';
import { WorkerChild } from '../children';
import { deleteSwarmKeys } from '../cleanup';
import { type Summary, summarize } from '../stats';

/**
 * One publisher, K subscribers spread over child processes: findings/s and deliveries/s until
 * every subscriber has every finding, then publish → subscriber latency one finding at a time.
 * swarm (bus.publish → durable bus.follow subscribers) beside raw Redis pub/sub (PUBLISH → K
 * SUBSCRIBE connections: at-most-once, nothing stored).
 */

type SystemName = 'swarm' | 'redis-pubsub';
const SYSTEMS: SystemName[] = ['swarm', 'redis-pubsub'];
const TYPE = 'bench';
const WARMUP_EVERY_MS = 20;
const READY_TIMEOUT_MS = 60_000;
/** Subscribers fail on their own after a minute without progress; this only bounds a wedged run. */
const THROUGHPUT_TIMEOUT_MS = 30 * 60_000;
const SAMPLE_TIMEOUT_MS = 30_000;

interface Settings {
  findings: number;
  samples: number;
  warmup: number;
  procs: number;
  inflight: number;
  gapMs: number;
}

interface RoundResult {
  findingsPerSec: number;
  deliveriesPerSec: number;
  publishMs: number;
  totalMs: number;
  latency: Summary;
  lost: number;
  procs: number;
}

interface Publisher {
  publish(message: BroadcastMessage): Promise<unknown>;
  close(): Promise<void>;
}

function swarmPublisher(ctx: BenchContext, swarm: string): Publisher {
  const bus = new RedisBus({ url: ctx.redisUrl });
  return {
    publish: (message) => bus.publish(swarm, { type: TYPE, summary: 'broadcast probe', data: message }),
    async close() {
      await deleteSwarmKeys(bus, swarm).catch(() => 0);
      await bus.close();
    },
  };
}

/** Publishes the same JSON a finding carries (less the stream id), so payload sizes match. */
function pubsubPublisher(ctx: BenchContext, channel: string): Publisher {
  const redis = new Redis(ctx.redisUrl, { protocol: 2, connectionName: 'bench:publisher' });
  return {
    publish: (message) =>
      redis.publish(
        channel,
        JSON.stringify({
          swarm: channel,
          taskId: randomUUID(),
          type: TYPE,
          summary: 'broadcast probe',
          data: message,
          workerId: '',
          attempt: 0,
          tags: [],
          createdAt: Date.now(),
        }),
      ),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** seq 0..n-1 in order, at most `inflight` publish calls outstanding. */
async function publishAll(
  n: number,
  inflight: number,
  publish: (seq: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    try {
      while (next < n && !failed) await publish(next++);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, n) }, lane));
}

/** Subscriber counts per process: k spread as evenly as possible over min(k, procs) processes. */
function spread(k: number, procs: number): number[] {
  const p = Math.min(k, procs);
  return Array.from({ length: p }, (_, i) => Math.floor(k / p) + (i < k % p ? 1 : 0));
}

async function round(ctx: BenchContext, system: SystemName, k: number, s: Settings): Promise<RoundResult> {
  const swarm = runName('bench-bc');
  const counts = spread(k, s.procs);
  const children: WorkerChild[] = [];
  let first = 0;
  for (const [p, count] of counts.entries()) {
    children.push(
      new WorkerChild(
        `${system} subscriber process ${p + 1}`,
        new URL('../workers/broadcast-subscribers.ts', import.meta.url),
        {
          BENCH_SYSTEM: system,
          BENCH_REDIS_URL: ctx.redisUrl,
          BENCH_SWARM: swarm,
          BENCH_FIRST: String(first),
          BENCH_COUNT: String(count),
          BENCH_FINDINGS: String(s.findings),
        },
      ),
    );
    first += count;
  }
  const publisher = system === 'swarm' ? swarmPublisher(ctx, swarm) : pubsubPublisher(ctx, swarm);
  try {
    await Promise.all(children.map((c) => c.next('ready', READY_TIMEOUT_MS)));

    // Warm-up messages until every subscriber has seen one: then every subscription is live.
    const warm = Promise.all(children.map((c) => c.next('warm', READY_TIMEOUT_MS)));
    let settled = false;
    const stopWarming = () => {
      settled = true;
    };
    warm.then(stopWarming, stopWarming);
    for (let seq = 0; !settled; seq++) {
      await publisher.publish({ phase: 'warmup', seq });
      await Promise.race([warm.catch(() => {}), sleep(WARMUP_EVERY_MS)]);
    }
    await warm;

    // Throughput: everything as fast as the publisher goes; the clock stops at the last delivery.
    const start = clockMs();
    await publishAll(s.findings, s.inflight, (seq) => publisher.publish({ phase: 'throughput', seq }));
    const publishMs = clockMs() - start;
    ctx.log(`k=${k} ${system}: published ${s.findings} in ${(publishMs / 1000).toFixed(2)} s`);
    const done = await Promise.all(children.map((c) => c.next('throughput-done', THROUGHPUT_TIMEOUT_MS)));
    const totalMs = Math.max(...done.map((m) => Number(m.lastAt))) - start;

    // Latency: one at a time; the next is published once every subscriber has the last.
    for (let seq = 0; seq < s.warmup + s.samples; seq++) {
      const sentAt = clockMs();
      await publisher.publish({ phase: 'latency', seq, sentAt, measured: seq >= s.warmup });
      for (const child of children) {
        const got = await child.next('got', SAMPLE_TIMEOUT_MS);
        if (got.seq !== seq)
          throw new Error(`${child.name}: latency sample ${String(got.seq)}, expected ${seq}`);
      }
      await sleep(s.gapMs);
    }
    for (const child of children) child.send({ type: 'report' });
    const delays: number[] = [];
    let lost = 0;
    for (const child of children) {
      const report = await child.next('report', SAMPLE_TIMEOUT_MS);
      for (const d of report.delays as number[]) delays.push(d);
      lost += Number(report.lost);
    }
    if (delays.length !== k * s.samples)
      throw new Error(`${system}: ${delays.length} latency deliveries, expected ${k * s.samples}`);
    return {
      findingsPerSec: s.findings / (totalMs / 1000),
      deliveriesPerSec: (k * s.findings) / (totalMs / 1000),
      publishMs,
      totalMs,
      latency: summarize(delays),
      lost,
      procs: counts.length,
    };
  } finally {
    // Subscribers first: a durable subscriber's last cursor write lands before the keys go.
    await Promise.all(children.map((c) => c.stop()));
    await publisher.close();
  }
}

function subscriberCounts(text: string): number[] {
  const list = text.split(',').map((part) => Number(part.trim()));
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n <= 0))
    throw new Error(`--subscribers must be comma-separated positive integers, got ${text}`);
  return [...new Set(list)];
}

export const broadcast: Benchmark = {
  name: 'broadcast',
  summary: 'one publisher, K subscribers: swarm publish → durable follow vs raw Redis PUBLISH/SUBSCRIBE',
  flags: {
    subscribers: { default: '1,10,100', help: 'subscriber counts K to run, comma-separated' },
    findings: { default: 10_000, help: 'findings published per K and system for deliveries/s' },
    samples: { default: 1_000, help: 'latency samples per K and system, published one at a time' },
    warmup: { default: 100, help: 'unmeasured latency samples first' },
    procs: { default: 4, help: 'subscriber processes at most (min(K, procs) are used)' },
    inflight: { default: 64, help: 'publish calls in flight at most during the throughput phase' },
    'gap-ms': { default: 1, help: 'pause between latency samples, after every subscriber has the last' },
  },
  async run(ctx) {
    const ks = subscriberCounts(ctx.str('subscribers'));
    const s: Settings = {
      findings: ctx.int('findings'),
      samples: ctx.int('samples'),
      warmup: ctx.int('warmup'),
      procs: ctx.int('procs'),
      inflight: ctx.int('inflight'),
      gapMs: ctx.int('gap-ms'),
    };
    const notes = [
      `K = ${ks.join(', ')} subscribers, spread evenly over min(K, ${s.procs}) child processes; the publisher is the benchmark process`,
      'swarm: bus.publish → bus.follow({ swarms: [S], name: "sub-<i>", from: "now" }) (durable, cursor in Redis),',
      '  one RedisBus per subscriber process; redis-pubsub: PUBLISH → one SUBSCRIBE connection per subscriber',
      '  (at-most-once, nothing stored); the same finding JSON either way',
      `throughput: ${s.findings} findings, ${s.inflight} publish calls in flight, from the first publish to the last`,
      '  delivery at any subscriber; each subscriber checked to get every one exactly once, in stream order',
      `latency: ${s.samples} samples after ${s.warmup} warm-up, one at a time (next once all K have it, then ${s.gapMs} ms),`,
      '  publish call start → subscriber next(), over every delivery; shared monotonic clock (process.hrtime)',
      'ratios (swarm/redis-pubsub): p50 > 1 means swarm is slower; deliveries < 1 means swarm is slower',
    ];
    const results = new Map<string, RoundResult>();
    for (const [i, k] of ks.entries()) {
      const order = i % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
      for (const system of order) {
        ctx.log(`k=${k}: ${system}`);
        const r = await round(ctx, system, k, s);
        results.set(`${system}:${k}`, r);
        const line =
          `k=${k} ${system} (${r.procs} process${r.procs === 1 ? '' : 'es'}): ${r.deliveriesPerSec.toFixed(0)} deliveries/s, ` +
          `all delivered after ${(r.totalMs / 1000).toFixed(2)} s (publishing took ${(r.publishMs / 1000).toFixed(2)} s), ` +
          `latency p50 ${r.latency.p50.toFixed(3)} ms p99 ${r.latency.p99.toFixed(3)} ms` +
          (r.lost > 0 ? `, ${r.lost} messages lost` : '');
        ctx.log(line);
        notes.push(line);
      }
    }
    const out = new Rows('broadcast');
    for (const k of ks) {
      const prefix = `k${k}_`;
      for (const system of SYSTEMS) {
        const r = results.get(`${system}:${k}`) as RoundResult;
        out.add(system, `${prefix}findings_per_sec`, r.findingsPerSec, 'findings/s');
        out.add(system, `${prefix}deliveries_per_sec`, r.deliveriesPerSec, 'deliveries/s');
        out.addLatency(system, prefix, r.latency);
        if (r.lost > 0) out.add(system, `${prefix}lost`, r.lost, 'messages');
      }
      const swarm = results.get(`swarm:${k}`) as RoundResult;
      const pubsub = results.get(`redis-pubsub:${k}`) as RoundResult;
      out.add('swarm/redis-pubsub', `${prefix}p50_ratio`, swarm.latency.p50 / pubsub.latency.p50, 'x');
      out.add(
        'swarm/redis-pubsub',
        `${prefix}deliveries_ratio`,
        swarm.deliveriesPerSec / pubsub.deliveriesPerSec,
        'x',
      );
    }
    return { rows: out.rows, notes };
  },
};
