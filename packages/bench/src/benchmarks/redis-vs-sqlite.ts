import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { WorkerChild } from '../children';
import { deleteKeys } from '../cleanup';
import { type KvStore, redisStore, sqliteStore, type Workload } from '../kv-stores';
import { summarize } from '../stats';

/**
 * The same key/value operations on Redis and on SQLite (better-sqlite3, WAL, temp file):
 * (a) sequential latency in one process, (b) aggregate ops/s of several processes at once.
 * Ratios are oriented so that > 1 means Redis was faster and < 1 means SQLite was.
 */

type Op = 'small_set' | 'small_get' | 'large_set' | 'large_get';
const WORKLOADS: Workload[] = ['set', 'get', 'mixed'];
const CONCURRENT_METRIC: Record<Workload, string> = {
  set: 'concurrent_set',
  get: 'concurrent_get',
  mixed: 'concurrent',
};

async function timeOps(count: number, op: (i: number) => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const pending = op(i);
    if (pending instanceof Promise) await pending;
    samples.push(performance.now() - start);
  }
  return samples;
}

interface Settings {
  prefix: string;
  keys: number;
  small: Buffer;
  large: Buffer;
  dbPath: string;
  sync: string;
  client: string;
}

/** p50 ms per operation kind, sequential in this process. */
async function sequential(
  ctx: BenchContext,
  store: KvStore,
  s: Settings,
  out: Rows,
): Promise<Map<Op, number>> {
  const samples = ctx.int('samples');
  const largeSamples = ctx.int('large-samples');
  const warmup = ctx.int('warmup');
  const key = (i: number) => `${s.prefix}:k${i % s.keys}`;
  const largeKey = `${s.prefix}:large`;
  const ops: [Op, number, (i: number) => unknown][] = [
    ['small_set', samples, (i) => store.set(key(i), s.small)],
    ['small_get', samples, (i) => store.get(key(i))],
    ['large_set', largeSamples, () => store.set(largeKey, s.large)],
    ['large_get', largeSamples, () => store.get(largeKey)],
  ];
  const p50 = new Map<Op, number>();
  for (const [op, count, run] of ops) {
    await timeOps(Math.min(warmup, count), run);
    const summary = summarize(await timeOps(count, run));
    out.addLatency(store.name, `${op}_`, summary);
    p50.set(op, summary.p50);
    ctx.log(`${store.name} ${op}: p50 ${summary.p50.toFixed(3)} ms`);
  }
  const read = await store.get(largeKey);
  if (!read?.equals(s.large)) throw new Error(`${store.name}: the large value read back differs`);
  return p50;
}

/** Aggregate ops/s per workload with `procs` processes doing `ops` operations each. */
async function concurrent(
  ctx: BenchContext,
  system: 'redis' | 'sqlite',
  s: Settings,
  out: Rows,
): Promise<Map<Workload, number>> {
  const procs = ctx.int('procs');
  const ops = ctx.int('ops');
  const children: WorkerChild[] = [];
  const rates = new Map<Workload, number>();
  try {
    for (let p = 0; p < procs; p++) {
      children.push(
        new WorkerChild(`${system} process ${p + 1}`, new URL('../workers/kv-ops.ts', import.meta.url), {
          BENCH_SYSTEM: system,
          BENCH_REDIS_URL: ctx.redisUrl,
          BENCH_DB_PATH: s.dbPath,
          BENCH_SYNC: s.sync,
          BENCH_REDIS_CLIENT: s.client,
          BENCH_PREFIX: s.prefix,
          BENCH_KEYS: String(s.keys),
          BENCH_OFFSET: String((p + 1) * 257),
          BENCH_VALUE_BYTES: String(s.small.length),
        }),
      );
    }
    await Promise.all(children.map((c) => c.next('ready', 60_000)));
    for (const workload of WORKLOADS) {
      const start = performance.now();
      for (const child of children) child.send({ type: 'run', workload, ops });
      await Promise.all(children.map((c) => c.next('done', 600_000)));
      const seconds = (performance.now() - start) / 1000;
      const rate = (procs * ops) / seconds;
      rates.set(workload, rate);
      out.add(system, `${CONCURRENT_METRIC[workload]}_ops_per_sec`, rate, 'ops/s');
      ctx.log(`${system} ${procs} processes, ${workload}: ${rate.toFixed(0)} ops/s`);
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
  return rates;
}

export const redisVsSqlite: Benchmark = {
  name: 'redis-vs-sqlite',
  summary: 'small and 800 KB key/value operations: Redis (ioredis) vs SQLite (better-sqlite3, WAL)',
  flags: {
    samples: { default: 5_000, help: 'sequential samples per small operation' },
    'large-samples': { default: 200, help: 'sequential samples per large operation' },
    warmup: { default: 200, help: 'unmeasured operations of each kind first' },
    procs: { default: 4, help: 'concurrent processes per system' },
    ops: { default: 20_000, help: 'small operations per process per concurrent workload' },
    keys: { default: 1_000, help: 'distinct small keys' },
    'value-bytes': { default: 64, help: 'small value size in bytes' },
    bytes: { default: 800 * 1024, help: 'large value size in bytes' },
    sync: { default: 'normal', help: 'SQLite PRAGMA synchronous: off, normal or full' },
    client: {
      default: 'plain',
      help: "Redis client options: plain (ioredis defaults) or swarm (RedisBus's: auto-pipelining on)",
    },
  },
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-bench-sqlite-'));
    const s: Settings = {
      prefix: `bench:{${runName('kv')}}`,
      keys: ctx.int('keys'),
      small: randomBytes(ctx.int('value-bytes')),
      large: randomBytes(ctx.int('bytes')),
      dbPath: join(dir, 'kv.db'),
      sync: ctx.str('sync'),
      client: ctx.str('client'),
    };
    const out = new Rows('redis-vs-sqlite');
    const ratios = new Rows('redis-vs-sqlite');
    const redis = redisStore(ctx.redisUrl, s.client);
    let sqlite: KvStore | undefined;
    try {
      sqlite = await sqliteStore(s.dbPath, s.sync);
      const redisP50 = await sequential(ctx, redis, s, out);
      const sqliteP50 = await sequential(ctx, sqlite, s, out);
      for (const op of redisP50.keys())
        ratios.add(
          'redis/sqlite',
          `${op}_ratio`,
          (sqliteP50.get(op) as number) / (redisP50.get(op) as number),
          'x',
        );
      const redisRates = await concurrent(ctx, 'redis', s, out);
      const sqliteRates = await concurrent(ctx, 'sqlite', s, out);
      for (const workload of WORKLOADS)
        ratios.add(
          'redis/sqlite',
          `${CONCURRENT_METRIC[workload]}_ratio`,
          (redisRates.get(workload) as number) / (sqliteRates.get(workload) as number),
          'x',
        );
    } finally {
      await redis.close();
      await sqlite?.close();
      const raw = new Redis(ctx.redisUrl, { protocol: 2 });
      await deleteKeys(raw, `${s.prefix}:*`).catch(() => 0);
      raw.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
    const sqliteWins = ratios.rows
      .filter((r) => r.value < 1)
      .map((r) => `${r.metric} (${r.value.toFixed(2)}x)`);
    return {
      rows: [...out.rows, ...ratios.rows],
      notes: [
        'ratios: > 1 means Redis faster, < 1 means SQLite faster.',
        '  *_set/get_ratio = sqlite p50 / redis p50 (sequential, one process);',
        '  concurrent*_ratio = redis ops/s / sqlite ops/s (several processes at once)',
        sqliteWins.length > 0
          ? `SQLite was faster at: ${sqliteWins.join(', ')}`
          : 'Redis was faster at every operation here',
        `SQLite: temp file on ${tmpdir()}, WAL, synchronous=${s.sync}, INSERT OR REPLACE / SELECT by primary key, in-process (no network hop)`,
        s.client === 'swarm'
          ? "Redis: ioredis over loopback TCP with RedisBus's options (RESP2, auto-pipelining), one command at a time;"
          : 'Redis: ioredis over loopback TCP with its defaults (RESP2, no auto-pipelining), one command at a time;',
        '  no persistence (--save "" --appendonly no)',
        `small values ${s.small.length} B over ${s.keys} keys; large ${s.large.length} B; concurrent: ${ctx.int('procs')} processes × ${ctx.int('ops')} ops`,
        'concurrent workloads: set only, get only, and mixed (alternating set/get: concurrent_ops_per_sec)',
      ],
    };
  },
};
