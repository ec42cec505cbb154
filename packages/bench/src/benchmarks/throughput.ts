import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskInput } from '@swarm/core';
import { RedisBus } from '@swarm/core';
import { type JobsOptions, Queue, QueueEvents } from 'bullmq';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { bullmqConnection } from '../bullmq-connection';
import { WorkerChild } from '../children';
import { deleteSwarmKeys } from '../cleanup';
import { checkExactlyOnce } from '../exactly-once';
import { awaitProgress } from '../progress';
import { type RoundSettings, roundSettings } from '../round-settings';
import { median } from '../stats';
import { startCountingTracing, startSpanSink } from '../tracing-cost';

/**
 * No-op tasks through one worker process, swarm and BullMQ side by side on one Redis:
 * tasks/s from the first post to the last completion the poster observed.
 */

const TYPE = 'noop';
/** After the last expected completion, how long to keep listening for duplicates. */
const DUPLICATE_GRACE_MS = 1_000;

interface RoundResult {
  tasksPerSec: number;
  postMs: number;
  totalMs: number;
  /** `swarm run` rounds: CPU its process used from ready to stop, and the dashboard's and its viewer's. */
  runCpuMs?: number;
  observerCpuMs?: number;
}

function workerScript(name: string): URL {
  return new URL(`../workers/${name}.ts`, import.meta.url);
}

const workerGone = (worker: WorkerChild) => () =>
  worker.exitStatus === undefined ? undefined : `worker exited (${worker.exitStatus})`;

/** The bare bus in a worker process, or (`throughput-swarm-run`) the pool `swarm run` starts from a topology. */
async function swarmRound(
  ctx: BenchContext,
  settings: RoundSettings,
  script: 'throughput-swarm' | 'throughput-swarm-run' = 'throughput-swarm',
  /** More of the worker's environment (the OTEL_* variables of a traced round). */
  workerEnv: Record<string, string> = {},
): Promise<RoundResult> {
  const swarm = runName('bench-tp');
  const bus = new RedisBus({ url: ctx.redisUrl });
  const worker = new WorkerChild(script, workerScript(script), {
    BENCH_REDIS_URL: ctx.redisUrl,
    BENCH_SWARM: swarm,
    BENCH_TYPE: TYPE,
    BENCH_CONCURRENCY: String(settings.concurrency),
    ...workerEnv,
  });
  let result: RoundResult | undefined;
  let workerFailed = false;
  try {
    await worker.next('ready', 60_000);
    const seen = new Set<string>();
    let duplicates = 0;
    let lastAt = 0;
    let finish: () => void = () => {};
    let abort: (error: unknown) => void = () => {};
    const all = new Promise<void>((resolve, reject) => {
      finish = resolve;
      abort = reject;
    });
    // A fresh swarm, read from its start: nothing can slip past before the reader is live.
    const subscription = bus.findings$(swarm, { from: 'start' }).subscribe({
      next: (finding) => {
        if (seen.has(finding.taskId)) duplicates++;
        else seen.add(finding.taskId);
        if (seen.size === settings.tasks && lastAt === 0) {
          lastAt = performance.now();
          finish();
        }
      },
      error: abort,
    });
    try {
      const posted = new Set<string>();
      const start = performance.now();
      for (let i = 0; i < settings.tasks; i += settings.chunk) {
        const batch: TaskInput[] = [];
        for (let j = i; j < Math.min(settings.tasks, i + settings.chunk); j++) batch.push({ data: j });
        for (const { id } of await bus.postBatch(swarm, TYPE, batch)) posted.add(id);
      }
      const postMs = performance.now() - start;
      await awaitProgress(all, {
        progress: () => seen.size,
        total: settings.tasks,
        what: 'swarm findings',
        dead: workerGone(worker),
        log: (m) => ctx.log(m),
      });
      await sleep(DUPLICATE_GRACE_MS);
      checkExactlyOnce('swarm', posted, seen, duplicates, settings.tasks);
      const totalMs = lastAt - start;
      result = { tasksPerSec: settings.tasks / (totalMs / 1000), postMs, totalMs };
    } finally {
      subscription.unsubscribe();
    }
  } finally {
    const stopped = await worker.stop();
    if (stopped && Number(stopped.failed) > 0)
      ctx.log(`swarm worker: ${String(stopped.failed)} completions failed`);
    if (result && typeof stopped?.runCpuMs === 'number') {
      result.runCpuMs = stopped.runCpuMs;
      if (typeof stopped.observerCpuMs === 'number') result.observerCpuMs = stopped.observerCpuMs;
    }
    await deleteSwarmKeys(bus, swarm).catch(() => 0);
    await bus.close();
    workerFailed = Number(stopped?.failed ?? 0) > 0;
  }
  // A watched round whose dashboard streamed or scraped nothing, or failed a request, measured nothing.
  if (workerFailed)
    throw new Error(`${script}: the worker process reported a failure (see its [bench] lines)`);
  if (!result) throw new Error(`${script}: the round ended without a result`);
  return result;
}

/**
 * swarm-run with tracing on in both processes: `swarm run` exports its consumer spans over OTLP
 * (HTTP, JSON) to a local sink, and this process, the poster, runs the SDK with a batch processor
 * whose exporter drops its producer spans. Both counts are logged, so a round that traced nothing shows.
 */
async function tracedRunRound(
  ctx: BenchContext,
  settings: RoundSettings,
  /** OTEL_TRACES_SAMPLER and its argument for both processes; every span recorded when absent. */
  sampler: Record<string, string> = {},
): Promise<RoundResult> {
  const sink = await startSpanSink();
  const poster = startCountingTracing(sampler);
  try {
    return await swarmRound(ctx, settings, 'throughput-swarm-run', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.endpoint,
      OTEL_SERVICE_NAME: 'bench-worker',
      ...sampler,
    });
  } finally {
    await poster.tracing.shutdown();
    // The worker exports its last batch as it stops, inside swarmRound: the sink has it all now.
    ctx.log(
      `traced round: ${poster.spans} producer spans in the poster, ${sink.spans} spans exported by the worker`,
    );
    await sink.close();
  }
}

/**
 * swarm-run watched: `swarm run --metrics` counts every task of its own, a `swarm dashboard`
 * process serves the swarm, and the worker's parent process plays the open page (the findings
 * stream, the page's polls) and a Prometheus server scraping both /metrics every second.
 */
function dashboardRunRound(ctx: BenchContext, settings: RoundSettings): Promise<RoundResult> {
  return swarmRound(ctx, settings, 'throughput-swarm-run', { BENCH_DASHBOARD: '1' });
}

async function bullmqRound(ctx: BenchContext, settings: RoundSettings): Promise<RoundResult> {
  const name = runName('bench-tp');
  const connection = bullmqConnection(ctx.redisUrl);
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new WorkerChild('bullmq worker', workerScript('throughput-bullmq'), {
    BENCH_REDIS_URL: ctx.redisUrl,
    BENCH_QUEUE: name,
    BENCH_CONCURRENCY: String(settings.concurrency),
  });
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.next('ready', 60_000)]);
    const seen = new Set<string>();
    let duplicates = 0;
    let lastAt = 0;
    let finish: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      finish = resolve;
    });
    events.on('completed', ({ jobId }) => {
      if (seen.has(jobId)) duplicates++;
      else seen.add(jobId);
      if (seen.size === settings.tasks && lastAt === 0) {
        lastAt = performance.now();
        finish();
      }
    });
    const opts: JobsOptions = { removeOnComplete: true };
    const posted = new Set<string>();
    const start = performance.now();
    for (let i = 0; i < settings.tasks; i += settings.chunk) {
      const batch: { name: string; data: { n: number }; opts: JobsOptions }[] = [];
      for (let j = i; j < Math.min(settings.tasks, i + settings.chunk); j++)
        batch.push({ name: TYPE, data: { n: j }, opts });
      for (const job of await queue.addBulk(batch)) {
        if (job.id === undefined) throw new Error('bullmq: addBulk returned a job without an id');
        posted.add(job.id);
      }
    }
    const postMs = performance.now() - start;
    await awaitProgress(all, {
      progress: () => seen.size,
      total: settings.tasks,
      what: 'bullmq completions',
      dead: workerGone(worker),
      log: (m) => ctx.log(m),
    });
    await sleep(DUPLICATE_GRACE_MS);
    checkExactlyOnce('bullmq', posted, seen, duplicates, settings.tasks);
    const totalMs = lastAt - start;
    return { tasksPerSec: settings.tasks / (totalMs / 1000), postMs, totalMs };
  } finally {
    const stopped = await worker.stop();
    if (stopped && Number(stopped.failed) > 0)
      ctx.log(`bullmq worker: ${String(stopped.failed)} jobs failed`);
    await events.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

export const throughput: Benchmark = {
  name: 'throughput',
  summary: 'no-op tasks through one worker process: swarm vs BullMQ, first post to last observed completion',
  flags: {
    tasks: { default: 50_000, help: 'tasks per round and system' },
    concurrency: { default: 64, help: 'worker concurrency, same for both systems' },
    rounds: { default: 3, help: 'rounds, alternating which system goes first; medians reported' },
    chunk: { default: 1_000, help: 'tasks per postBatch / addBulk call' },
  },
  async run(ctx) {
    const settings = roundSettings(ctx);
    const rounds = ctx.int('rounds');
    const systems = {
      swarm: { run: swarmRound, results: [] as RoundResult[] },
      'swarm-run': {
        run: (c: BenchContext, s: RoundSettings) => swarmRound(c, s, 'throughput-swarm-run'),
        results: [] as RoundResult[],
      },
      'swarm-run-traced': { run: tracedRunRound, results: [] as RoundResult[] },
      'swarm-run-sampled': {
        run: (c: BenchContext, s: RoundSettings) =>
          tracedRunRound(c, s, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }),
        results: [] as RoundResult[],
      },
      'swarm-run-dashboard': { run: dashboardRunRound, results: [] as RoundResult[] },
      bullmq: { run: bullmqRound, results: [] as RoundResult[] },
    };
    const notes = [
      `${settings.tasks} no-op tasks per round, worker concurrency ${settings.concurrency}, posted in chunks of ${settings.chunk}`,
      'worker in a child process; time runs from the first post to the last completion observed by the poster',
      'swarm: the bare bus (consume + complete) in the worker process; swarm-run: a module-handler pool started',
      '  by `swarm run <topology>` (bundled CLI), the way a user runs one',
      'swarm-run-traced: swarm-run with OpenTelemetry on: the worker exports a consumer span per task over',
      '  OTLP/HTTP JSON to a local sink, the poster makes a producer span per task (batch processor, spans dropped)',
      'swarm-run-sampled: the same with OTEL_TRACES_SAMPLER=traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1 in both',
      'swarm-run-dashboard: swarm-run with `--metrics` and a `swarm dashboard` process open on the swarm: a',
      '  client reads the findings stream and polls as the page does, and scrapes the',
      "  dashboard's /metrics (read from Redis) and the worker's every 1 s; the counters in Redis are in every swarm row",
      '(swarm: findings$; BullMQ: QueueEvents "completed"); every task checked observed exactly once',
      `BullMQ: removeOnComplete true, otherwise defaults (RESP2 connections). Median of ${rounds} round(s).`,
    ];
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0
          ? ([
              'swarm',
              'swarm-run',
              'swarm-run-traced',
              'swarm-run-sampled',
              'swarm-run-dashboard',
              'bullmq',
            ] as const)
          : ([
              'bullmq',
              'swarm-run-dashboard',
              'swarm-run-sampled',
              'swarm-run-traced',
              'swarm-run',
              'swarm',
            ] as const);
      for (const system of order) {
        ctx.log(`round ${round + 1}/${rounds}: ${system}`);
        const result = await systems[system].run(ctx, settings);
        systems[system].results.push(result);
        const line = `round ${round + 1} ${system}: ${result.tasksPerSec.toFixed(0)} tasks/s (posting took ${(result.postMs / 1000).toFixed(2)} s, all observed after ${(result.totalMs / 1000).toFixed(2)} s)`;
        ctx.log(line);
        notes.push(line);
      }
    }
    const out = new Rows('throughput');
    const swarmRate = median(systems.swarm.results.map((r) => r.tasksPerSec));
    const bullmqRate = median(systems.bullmq.results.map((r) => r.tasksPerSec));
    out.add('swarm', 'tasks_per_sec', swarmRate, 'tasks/s');
    out.add('bullmq', 'tasks_per_sec', bullmqRate, 'tasks/s');
    out.add('swarm', 'ratio_vs_bullmq', swarmRate / bullmqRate, 'x');
    const runRate = median(systems['swarm-run'].results.map((r) => r.tasksPerSec));
    out.add('swarm-run', 'tasks_per_sec', runRate, 'tasks/s');
    out.add('swarm-run', 'ratio_vs_bullmq', runRate / bullmqRate, 'x');
    const tracedRate = median(systems['swarm-run-traced'].results.map((r) => r.tasksPerSec));
    out.add('swarm-run-traced', 'tasks_per_sec', tracedRate, 'tasks/s');
    out.add('swarm-run-traced', 'drop_vs_swarm_run', 100 * (1 - tracedRate / runRate), '%');
    const sampledRate = median(systems['swarm-run-sampled'].results.map((r) => r.tasksPerSec));
    out.add('swarm-run-sampled', 'tasks_per_sec', sampledRate, 'tasks/s');
    out.add('swarm-run-sampled', 'drop_vs_swarm_run', 100 * (1 - sampledRate / runRate), '%');
    const watchedRate = median(systems['swarm-run-dashboard'].results.map((r) => r.tasksPerSec));
    out.add('swarm-run-dashboard', 'tasks_per_sec', watchedRate, 'tasks/s');
    out.add('swarm-run-dashboard', 'drop_vs_swarm_run', 100 * (1 - watchedRate / runRate), '%');
    // CPU per task of the worker process, start-up left out: steadier than tasks/s on a shared
    // machine, and what an observer adds to each task wherever the machine's limit lies.
    const perTask = (results: RoundResult[], pick: (r: RoundResult) => number | undefined) =>
      (1_000 * median(results.map((r) => pick(r) ?? Number.NaN))) / settings.tasks;
    for (const row of ['swarm-run', 'swarm-run-traced', 'swarm-run-sampled', 'swarm-run-dashboard'] as const)
      out.add(
        row,
        'worker_cpu_us_per_task',
        perTask(systems[row].results, (r) => r.runCpuMs),
        'µs',
      );
    out.add(
      'swarm-run-dashboard',
      'dashboard_cpu_us_per_task',
      perTask(systems['swarm-run-dashboard'].results, (r) => r.observerCpuMs),
      'µs',
    );
    return { rows: out.rows, notes };
  },
};
