import { randomBytes } from 'node:crypto';
import { keys, RedisBus } from '@swarm/core';
import { type Benchmark, Rows, runName } from '../benchmark';
import { deleteSwarmKeys } from '../cleanup';
import { summarize } from '../stats';

/**
 * A large context put by one bus and read back by another, cold: every get goes to a new
 * RedisBus (connected before the clock starts), so no process-local cache can answer it.
 * Every put stores distinct content, so each one really writes. Beside it, in turn, sample by
 * sample, the same bytes with a plain SET and GET on the same connections (`redis-raw`): what
 * the content addressing, chunking and verification cost is their ratio, measured under one load.
 */
export const context: Benchmark = {
  name: 'context',
  summary: 'context.put of a large blob on one bus, cold context.get on a fresh bus',
  flags: {
    bytes: { default: 800 * 1024, help: 'context size in bytes' },
    samples: { default: 200, help: 'measured put+get pairs' },
    warmup: { default: 20, help: 'unmeasured pairs first' },
  },
  async run(ctx) {
    const bytes = ctx.int('bytes');
    const samples = ctx.int('samples');
    const warmup = ctx.int('warmup');
    const swarm = runName('bench-ctx');
    // A small cache: every put has new content anyway, and 200 × 800 KB need not stay in memory.
    const putter = new RedisBus({ url: ctx.redisUrl, context: { cacheBytes: 4 * bytes } });
    const base = randomBytes(bytes);
    const puts: number[] = [];
    const gets: number[] = [];
    const pairs: number[] = [];
    const raw = { puts: [] as number[], gets: [] as number[], pairs: [] as number[] };
    const rawKey = `${swarm}:raw`;
    try {
      await (await putter.redis()).ping();
      for (let i = 0; i < warmup + samples; i++) {
        const content = Buffer.from(base);
        content.writeUInt32LE(i, 0);
        const putStart = performance.now();
        const ref = await putter.context.put(swarm, content);
        const putMs = performance.now() - putStart;

        const rawPutStart = performance.now();
        await (await putter.redis()).set(rawKey, content);
        const rawPutMs = performance.now() - rawPutStart;

        const reader = new RedisBus({ url: ctx.redisUrl });
        let getMs: number;
        let rawGetMs: number;
        try {
          await (await reader.redis()).ping();
          const getStart = performance.now();
          const read = await reader.context.get(swarm, ref);
          getMs = performance.now() - getStart;
          if (!read.equals(content)) throw new Error(`context ${ref} read back different content`);
          const rawGetStart = performance.now();
          const rawRead = await (await reader.redis()).getBuffer(rawKey);
          rawGetMs = performance.now() - rawGetStart;
          if (!rawRead?.equals(content)) throw new Error('GET read back different content');
        } finally {
          await reader.close();
        }
        await (await putter.redis()).unlink(keys.context(swarm, ref), rawKey);
        if (i < warmup) continue;
        puts.push(putMs);
        gets.push(getMs);
        pairs.push(putMs + getMs);
        raw.puts.push(rawPutMs);
        raw.gets.push(rawGetMs);
        raw.pairs.push(rawPutMs + rawGetMs);
        if ((i - warmup + 1) % 50 === 0) ctx.log(`${i - warmup + 1} of ${samples} samples`);
      }
    } finally {
      await deleteSwarmKeys(putter, swarm).catch(() => 0);
      await putter.close();
    }
    const out = new Rows('context');
    const put = summarize(puts);
    const get = summarize(gets);
    out.addLatency('swarm', 'put_', put);
    out.addLatency('swarm', 'get_', get);
    const pair = summarize(pairs);
    out.addLatency('swarm', '', pair);
    out.add('swarm', 'put_mb_per_sec', bytes / 1e6 / (put.p50 / 1000), 'MB/s');
    out.add('swarm', 'get_mb_per_sec', bytes / 1e6 / (get.p50 / 1000), 'MB/s');
    const rawPair = summarize(raw.pairs);
    out.addLatency('redis-raw', 'put_', summarize(raw.puts));
    out.addLatency('redis-raw', 'get_', summarize(raw.gets));
    out.addLatency('redis-raw', '', rawPair);
    out.add('swarm', 'p50_ratio_vs_raw', pair.p50 / rawPair.p50, 'x');
    return {
      rows: out.rows,
      notes: [
        `${samples} samples (after ${warmup} warmup) of a ${bytes}-byte context, distinct content each time`,
        'put: context.put on one RedisBus (hash + HSET of the chunks)',
        'get: context.get on a new RedisBus per sample, connected before timing (cold cache, hash verified)',
        'p50_ms/p99_ms: put and get of the same sample added together; MB/s from the p50s',
        'redis-raw: SET of the same bytes on the putting connection, GET on the fresh one, in turn with swarm',
        'p50_ratio_vs_raw: swarm put+get p50 over redis-raw SET+GET p50, measured in the same run',
      ],
    };
  },
};
