/**
 * Limits (issue #10): worker processes sharing one provider's requests-per-minute limit, with
 * more tasks waiting than it lets through: the rate the fake vendor saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runName } from '../../benchmark';
import type { WorkerChild } from '../../children';
import {
  FindingsWatch,
  llmPool,
  type Part,
  redisCpuMs,
  startTimedFake,
  startWorkers,
  stopWorkers,
  TYPE,
  tearDown,
  workerCpuMs,
  workersGone,
} from './rig';

const MODEL_ID = 'anthropic:bench-model';
const PRICES = { [MODEL_ID]: { inputPerMTok: 2, outputPerMTok: 16 } };
const CHUNK = 1_000;

const percentOfCore = (cpuMs: number, seconds: number) =>
  `${((cpuMs / (seconds * 1_000)) * 100).toFixed(0)} %`;

export async function limits(part: Part): Promise<void> {
  const { ctx, bus, out, notes } = part;
  const procs = ctx.int('procs');
  const concurrency = ctx.int('proc-concurrency');
  const rpm = ctx.int('rpm');
  const seconds = ctx.int('seconds');
  const warmupSeconds = ctx.int('warmup-seconds');
  const vendor = await startTimedFake({ kind: 'anthropic', latencyMs: ctx.int('latency-ms') });
  const swarm = runName('bench-models-limits');
  let workers: WorkerChild[] | undefined;
  let watch: FindingsWatch | undefined;
  try {
    workers = await startWorkers(
      ctx,
      {
        swarm,
        providers: { anthropic: { fake: vendor.fake, limits: { requestsPerMinute: rpm } } },
        prices: PRICES,
        pools: [llmPool(concurrency, { model: MODEL_ID, maxOutputTokens: 256 })],
      },
      procs,
    );
    watch = new FindingsWatch(bus, swarm);
    // Half as many again as the limit lets through, and every slot's worth: the limit, not the backlog, sets the pace.
    const tasks = Math.ceil((((warmupSeconds + seconds) * rpm) / 60) * 1.5) + procs * concurrency;
    ctx.log(
      `limits: ${procs} processes × ${concurrency} sharing ${rpm} requests/minute, ${warmupSeconds} + ${seconds} s`,
    );
    const started = performance.now();
    for (let i = 0; i < tasks; i += CHUNK) {
      const batch = Array.from({ length: Math.min(CHUNK, tasks - i) }, (_, j) => ({
        description: `task ${i + j}`,
      }));
      await bus.postBatch(swarm, TYPE, batch);
    }
    const from = started + warmupSeconds * 1_000;
    const to = from + seconds * 1_000;
    const gone = workersGone(workers);
    const cpu = async () => ({
      workers: (await Promise.all(workers?.map(workerCpuMs) ?? [])).reduce((a, b) => a + b, 0),
      redis: await redisCpuMs(bus),
    });
    let cpuFrom: { workers: number; redis: number } | undefined;
    while (performance.now() < to) {
      const reason = gone();
      if (reason) throw new Error(`limits: ${reason}`);
      if (!cpuFrom && performance.now() >= from) cpuFrom = await cpu();
      await sleep(Math.min(250, Math.max(1, (cpuFrom ? to : from) - performance.now())));
    }
    const cpuTo = await cpu();
    const inWindow = vendor.arrivals.filter((at) => at >= from && at < to).length;
    const stats = await stopWorkers(workers);
    const observed = (inWindow / seconds) * 60;
    out.add('swarm', 'observed_rpm', observed, 'requests/min');
    notes.push(
      `limits: ${procs} worker processes × concurrency ${concurrency}, providers.anthropic.limits.requestsPerMinute ${rpm}, ${tasks} tasks posted at once`,
      `  observed_rpm: requests reaching the fake (its arrival times) from ${warmupSeconds} s after the first post to ${warmupSeconds + seconds} s, × 60 / ${seconds}:`,
      `  ${inWindow} requests in ${seconds} s = ${observed.toFixed(1)}/min, ${((observed / rpm - 1) * 100).toFixed(1)} % from the limit; ${vendor.arrivals.length} requests in all`,
      `  pools: ${stats.completed} completed, ${stats.deferred} deferred by the limit, ${stats.failed} failed; ${watch.findings.size} findings (${watch.duplicates} duplicates)`,
      `  CPU over the window: the worker processes ${percentOfCore(cpuTo.workers - (cpuFrom?.workers ?? 0), seconds)} of a core together, redis-server ${percentOfCore(cpuTo.redis - (cpuFrom?.redis ?? 0), seconds)}`,
    );
  } finally {
    await tearDown(bus, swarm, {
      ...(workers ? { workers } : {}),
      ...(watch ? { watch } : {}),
      fakes: [vendor],
    });
  }
}
