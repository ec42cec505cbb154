import { randomBytes } from 'node:crypto';
import { RedisBus } from '@swarm/core';
import { type Benchmark, Rows, runName } from '../benchmark';
import { summarize } from '../stats';

/**
 * Raw Redis round trips through the connection swarm itself uses (RedisBus.redis: RESP2,
 * auto-pipelining on, one command in flight at a time here): the floor under every bus figure.
 */

async function time(count: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await op(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

export const primitives: Benchmark = {
  name: 'primitives',
  summary: 'PING / SET / GET latency, small and large values, on the RedisBus command connection',
  flags: {
    samples: { default: 5_000, help: 'samples per small-value operation (PING, SET, GET)' },
    'large-samples': { default: 500, help: 'samples per large-value operation' },
    'value-bytes': { default: 64, help: 'small value size in bytes' },
    bytes: { default: 800 * 1024, help: 'large value size in bytes' },
    warmup: { default: 200, help: 'unmeasured operations of each kind first' },
  },
  async run(ctx) {
    const samples = ctx.int('samples');
    const largeSamples = ctx.int('large-samples');
    const warmup = ctx.int('warmup');
    const small = randomBytes(ctx.int('value-bytes'));
    const large = randomBytes(ctx.int('bytes'));
    const prefix = `bench:{${runName('prim')}}`;
    const smallKey = `${prefix}:small`;
    const largeKey = `${prefix}:large`;
    const bus = new RedisBus({ url: ctx.redisUrl });
    const redis = await bus.redis();
    const out = new Rows('primitives');
    try {
      await redis.ping();
      const check = async (key: string, expected: Buffer) => {
        const value = await redis.getBuffer(key);
        if (!value?.equals(expected))
          throw new Error(`GET ${key} returned something other than what was SET`);
      };
      const ops: [string, number, (i: number) => Promise<unknown>][] = [
        ['ping_', samples, () => redis.ping()],
        ['set_', samples, () => redis.set(smallKey, small)],
        ['get_', samples, () => redis.getBuffer(smallKey)],
        ['set_800k_', largeSamples, () => redis.set(largeKey, large)],
        ['get_800k_', largeSamples, () => redis.getBuffer(largeKey)],
      ];
      for (const [metric, count, op] of ops) {
        await time(Math.min(warmup, count), op);
        const summary = summarize(await time(count, op));
        out.addLatency('redis', metric, summary);
        ctx.log(`${metric}: p50 ${summary.p50.toFixed(3)} ms`);
      }
      await check(smallKey, small);
      await check(largeKey, large);
    } finally {
      await redis.unlink(smallKey, largeKey).catch(() => 0);
      await bus.close();
    }
    return {
      rows: out.rows,
      notes: [
        `one command at a time on RedisBus.redis; ${samples} samples of PING/SET/GET with ${small.length}-byte values,`,
        `${largeSamples} samples of SET/GET with ${large.length}-byte values ("800k" in the metric names); values as Buffers`,
      ],
    };
  },
};
