import { RedisBus } from '@swarm/core';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Subscription } from 'rxjs';
import { Arrivals } from '../arrivals';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { bullmqConnection } from '../bullmq-connection';
import { deleteSwarmKeys } from '../cleanup';
import { summarize } from '../stats';

/**
 * One task at a time: post → the finding seen by a findings$ subscriber (swarm), add →
 * QueueEvents 'completed' (BullMQ). The worker runs in this process on its own connections.
 */

const TYPE = 'echo';
const SAMPLE_TIMEOUT_MS = 30_000;
/** Samples are taken in blocks that alternate between the systems, so drift hits both alike. */
const BLOCK = 100;

interface System {
  name: 'swarm' | 'bullmq';
  /** One round trip in ms. */
  sample(): Promise<number>;
  duplicates(): number;
  close(): Promise<void>;
}

async function swarmSystem(ctx: BenchContext): Promise<System> {
  const swarm = runName('bench-lat');
  const poster = new RedisBus({ url: ctx.redisUrl });
  const worker = new RedisBus({ url: ctx.redisUrl });
  const arrivals = new Arrivals();
  const subscriptions: Subscription[] = [];
  let failure: unknown;
  subscriptions.push(
    worker.consume(swarm, TYPE, { concurrency: 1 }).subscribe({
      next: (delivery) => {
        delivery.complete({ summary: 'done' }).catch((error: unknown) => {
          failure = error;
        });
      },
      error: (error: unknown) => {
        failure = error;
      },
    }),
    poster.findings$(swarm, { from: 'start' }).subscribe({
      next: (finding) => arrivals.mark(finding.taskId),
      error: (error: unknown) => {
        failure = error;
      },
    }),
  );
  await Promise.all([(await poster.redis()).ping(), (await worker.redis()).ping()]);
  return {
    name: 'swarm',
    async sample() {
      if (failure) throw failure;
      const start = performance.now();
      const { id } = await poster.post(swarm, TYPE, { description: 'latency probe' });
      const at = await arrivals.wait(id, SAMPLE_TIMEOUT_MS);
      arrivals.forget(id);
      return at - start;
    },
    duplicates: () => arrivals.duplicates,
    async close() {
      for (const s of subscriptions) s.unsubscribe();
      await worker.drain();
      await deleteSwarmKeys(poster, swarm).catch(() => 0);
      await Promise.all([worker.close(), poster.close()]);
    },
  };
}

async function bullmqSystem(ctx: BenchContext): Promise<System> {
  const name = runName('bench-lat');
  const connection = bullmqConnection(ctx.redisUrl);
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(name, async () => 'done', { connection, concurrency: 1 });
  let failure: unknown;
  worker.on('failed', (_job, error) => {
    failure = error;
  });
  worker.on('error', (error) => ctx.log(`bullmq worker error: ${error.message}`));
  const arrivals = new Arrivals();
  events.on('completed', ({ jobId }) => arrivals.mark(jobId));
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
  return {
    name: 'bullmq',
    async sample() {
      if (failure) throw failure;
      const start = performance.now();
      const job = await queue.add(TYPE, { description: 'latency probe' }, { removeOnComplete: true });
      if (job.id === undefined) throw new Error('bullmq: add returned a job without an id');
      const at = await arrivals.wait(job.id, SAMPLE_TIMEOUT_MS);
      arrivals.forget(job.id);
      return at - start;
    },
    duplicates: () => arrivals.duplicates,
    async close() {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    },
  };
}

export const latency: Benchmark = {
  name: 'latency',
  summary: 'one task at a time: post → finding observed (swarm) vs add → QueueEvents completed (BullMQ)',
  flags: {
    samples: { default: 2_000, help: 'measured round trips per system' },
    warmup: { default: 200, help: 'unmeasured round trips per system first' },
  },
  async run(ctx) {
    const samples = ctx.int('samples');
    const warmup = ctx.int('warmup');
    const systems: System[] = [];
    try {
      systems.push(await swarmSystem(ctx));
      systems.push(await bullmqSystem(ctx));
      for (const system of systems) for (let i = 0; i < warmup; i++) await system.sample();
      const times = new Map<System, number[]>(systems.map((s) => [s, []]));
      for (let done = 0; done < samples; done += BLOCK) {
        for (const system of systems) {
          const list = times.get(system) as number[];
          for (let i = done; i < Math.min(samples, done + BLOCK); i++) list.push(await system.sample());
        }
        if ((done / BLOCK) % 5 === 4) ctx.log(`${done + BLOCK} of ${samples} samples per system`);
      }
      const out = new Rows('latency');
      for (const system of systems) {
        if (system.duplicates() > 0)
          throw new Error(`${system.name}: ${system.duplicates()} duplicate completions`);
        out.addLatency(system.name, '', summarize(times.get(system) as number[]));
      }
      return {
        rows: out.rows,
        notes: [
          `${samples} sequential round trips per system after ${warmup} warmup, in alternating blocks of ${BLOCK}`,
          'swarm: post → finding seen by a findings$ subscriber (poster and worker on separate RedisBus connections)',
          "BullMQ: queue.add → QueueEvents 'completed' (worker concurrency 1, removeOnComplete true)",
          'the worker runs in the benchmark process; p50/p99 are nearest-rank percentiles',
        ],
      };
    } finally {
      for (const system of systems) await system.close();
    }
  },
};
