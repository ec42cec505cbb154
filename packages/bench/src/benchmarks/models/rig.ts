/**
 * What every part of `pnpm bench models` stands on: fake vendors in the benchmark process, a
 * topology that points llm pools at them, worker processes running it, and a watch on the
 * swarm's findings stream (arrival times, duplicates, usage).
 */
import type { BudgetSpec, Finding, PriceSpec, ProviderSpec, RedisBus, TaskInput } from '@swarm/core';
import {
  type FakeReply,
  type FakeVendor,
  type FakeVendorOptions,
  startFakeVendor,
} from '@swarm/worker/testing';
import type { Subscription } from 'rxjs';
import { Arrivals } from '../../arrivals';
import type { BenchContext, Rows } from '../../benchmark';
import { WorkerChild } from '../../children';
import { deleteSwarmKeys } from '../../cleanup';
import { awaitProgress } from '../../progress';

/** The key every fake expects; workers get it as ${BENCH_FAKE_KEY}, never written into the topology. */
export const FAKE_KEY = 'bench-fake-key';
export const TYPE = 'ask';
/** How long one task may take before a closed loop gives up on it. */
const TASK_LIMIT_MS = 60_000;

/** A fake vendor that also notes when each request reached it (performance.now()). */
export interface TimedFake {
  fake: FakeVendor;
  arrivals: number[];
}

/** Starts a fake; `reply` (default: the fake's own) decides each request's answer, as a script does. */
export async function startTimedFake(
  options: Omit<FakeVendorOptions, 'script' | 'apiKey'>,
  reply: (n: number) => FakeReply | undefined = () => undefined,
): Promise<TimedFake> {
  const arrivals: number[] = [];
  const fake = await startFakeVendor({
    ...options,
    apiKey: FAKE_KEY,
    script: (_request, n) => {
      arrivals.push(performance.now());
      return reply(n);
    },
  });
  return { fake, arrivals };
}

export interface TopologyParts {
  swarm: string;
  /** Provider name (a known vendor's: its kind) to its fake, with optional rate limits. */
  providers: Record<string, { fake: FakeVendor; limits?: ProviderSpec['limits'] }>;
  prices: Record<string, PriceSpec>;
  budget?: BudgetSpec;
  /** Worker pools as a topology file writes them. */
  pools: Record<string, unknown>[];
}

/** The topology a worker process runs, as the text of a file (JSON is YAML). */
export function topologySource(parts: TopologyParts): string {
  const providers = Object.fromEntries(
    Object.entries(parts.providers).map(([name, { fake, limits }]) => [
      name,
      {
        baseURL: fake.url,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the topology's ${ENV} syntax, not a template
        apiKey: '${BENCH_FAKE_KEY}',
        ...(limits ? { limits } : {}),
      },
    ]),
  );
  const swarm = { ...(parts.budget ? { budget: parts.budget } : {}), workers: parts.pools };
  return JSON.stringify({ providers, prices: parts.prices, swarms: { [parts.swarm]: swarm } }, null, 2);
}

/** An llm pool as a topology writes it: type `ask`, the prompt the task's description. */
export function llmPool(concurrency: number, llm: Record<string, unknown>): Record<string, unknown> {
  return { type: TYPE, concurrency, handler: { llm: { prompt: '{{description}}', ...llm } } };
}

const POOL_SCRIPT = new URL('../../workers/models-pool.ts', import.meta.url);

/** Starts `count` worker processes on the topology; resolves once every pool claims tasks. */
export async function startWorkers(
  ctx: BenchContext,
  parts: TopologyParts,
  count: number,
): Promise<WorkerChild[]> {
  const source = topologySource(parts);
  const workers = Array.from(
    { length: count },
    (_, i) =>
      new WorkerChild(`model worker ${i + 1}`, POOL_SCRIPT, {
        BENCH_REDIS_URL: ctx.redisUrl,
        BENCH_SWARM: parts.swarm,
        BENCH_TOPOLOGY: source,
        BENCH_FAKE_KEY: FAKE_KEY,
        SWARM_LOG_LEVEL: process.env.SWARM_LOG_LEVEL ?? 'error',
      }),
  );
  try {
    await Promise.all(workers.map((w) => w.next('ready', 60_000)));
  } catch (error) {
    for (const w of workers) w.kill();
    throw error;
  }
  return workers;
}

/** Stops the workers; the pool stats they report, summed. */
export async function stopWorkers(
  workers: readonly WorkerChild[],
): Promise<{ completed: number; failed: number; deferred: number }> {
  const stopped = await Promise.all(workers.map((w) => w.stop()));
  const sum = (key: string) => stopped.reduce((n, s) => n + Number(s?.[key] ?? 0), 0);
  return { completed: sum('completed'), failed: sum('failed'), deferred: sum('deferred') };
}

export const workersGone = (workers: readonly WorkerChild[]) => () => {
  const gone = workers.find((w) => w.exitStatus !== undefined);
  return gone ? `${gone.name} exited (${gone.exitStatus})` : undefined;
};

/** A swarm's findings as the benchmark process sees them: first arrival per task, duplicates, usage. */
export class FindingsWatch {
  readonly arrivals = new Arrivals();
  readonly findings = new Map<string, Finding>();
  readonly #subscription: Subscription;
  #failure: unknown;

  constructor(bus: RedisBus, swarm: string) {
    // A fresh swarm, read from its start: nothing can slip past before the reader is live.
    this.#subscription = bus.findings$(swarm, { from: 'start' }).subscribe({
      next: (finding) => {
        if (!this.findings.has(finding.taskId)) this.findings.set(finding.taskId, finding);
        this.arrivals.mark(finding.taskId);
      },
      error: (error: unknown) => {
        this.#failure = error ?? new Error('the findings stream failed');
      },
    });
  }

  get duplicates(): number {
    return this.arrivals.duplicates;
  }

  /** performance.now() at which the task's first finding arrived. */
  arrival(taskId: string): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.arrivals.wait(taskId, TASK_LIMIT_MS);
  }

  /** Sum of what the findings' model calls cost. */
  costUsd(): number {
    let sum = 0;
    for (const f of this.findings.values()) sum += f.usage?.costUsd ?? 0;
    return sum;
  }

  close(): void {
    this.#subscription.unsubscribe();
  }
}

/** One task of a closed loop: when it was posted and when its finding arrived (performance.now()). */
export interface LoopTask {
  index: number;
  taskId: string;
  postedAt: number;
  foundAt: number;
}

/**
 * Posts `count` tasks keeping `inFlight` of them open (a new one once a finding arrives), so no
 * task waits for a slot.
 */
export async function closedLoop(
  bus: RedisBus,
  swarm: string,
  watch: FindingsWatch,
  options: { count: number; inFlight: number; input(i: number): TaskInput },
): Promise<LoopTask[]> {
  const done: LoopTask[] = [];
  let next = 0;
  const lane = async () => {
    while (next < options.count) {
      const index = next++;
      const postedAt = performance.now();
      const { id } = await bus.post(swarm, TYPE, options.input(index));
      done.push({ index, taskId: id, postedAt, foundAt: await watch.arrival(id) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.inFlight, options.count) }, lane));
  return done;
}

/** Milliseconds from post to finding, per task. */
export const latenciesOf = (tasks: readonly LoopTask[]) => tasks.map((t) => t.foundAt - t.postedAt);

const FILLER = 'The quick brown fox jumps over the lazy dog while the swarm keeps count. ';

/** A prompt of exactly `chars` characters that starts with `label`: `chars / 3.5` tokens by swarm's estimate. */
export function prose(label: string, chars: number): string {
  const head = `${label}: `;
  const body = FILLER.repeat(Math.ceil(chars / FILLER.length));
  return (head + body).slice(0, Math.max(chars, head.length));
}

/** Waits until every one of `total` tasks has a finding or a dead letter; the dead letters' count. */
export async function awaitSettled(
  ctx: BenchContext,
  bus: RedisBus,
  swarm: string,
  watch: FindingsWatch,
  total: number,
  workers: readonly WorkerChild[],
): Promise<number> {
  let dead = 0;
  const settled = (async () => {
    for (;;) {
      dead = (await bus.deadLetters(swarm, { count: total })).length;
      if (watch.findings.size + dead >= total) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await awaitProgress(settled, {
    progress: () => watch.findings.size + dead,
    total,
    what: `${swarm}: findings and dead letters`,
    dead: workersGone(workers),
    log: (m) => ctx.log(m),
  });
  return dead;
}

/** Spend counted under the swarm's budget in the ledger. */
export async function swarmSpend(
  bus: RedisBus,
  swarm: string,
): Promise<{ spentUsd: number; heldUsd: number }> {
  const state = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
  return { spentUsd: state?.spentUsd ?? 0, heldUsd: state?.heldUsd ?? 0 };
}

/** Closes what one part started: workers, the watch, fakes, the swarm's keys. */
export async function tearDown(
  bus: RedisBus,
  swarm: string,
  things: { workers?: readonly WorkerChild[]; watch?: FindingsWatch; fakes?: readonly TimedFake[] },
): Promise<void> {
  if (things.workers) await stopWorkers(things.workers).catch(() => undefined);
  things.watch?.close();
  await Promise.all((things.fakes ?? []).map((f) => f.fake.close()));
  await deleteSwarmKeys(bus, swarm).catch(() => 0);
}

/** What each part of the benchmark is handed: the run's context, a bus, and where its rows and notes go. */
export interface Part {
  ctx: BenchContext;
  bus: RedisBus;
  out: Rows;
  notes: string[];
}

/** CPU milliseconds a model worker process has used so far. */
export async function workerCpuMs(worker: WorkerChild): Promise<number> {
  worker.send({ type: 'cpu' });
  return Number((await worker.next('cpu', 10_000)).ms);
}

/** CPU milliseconds this process has used so far (the fakes, the poster, the findings reader). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
}

/** CPU milliseconds redis-server has used so far, from INFO cpu. */
export async function redisCpuMs(bus: RedisBus): Promise<number> {
  const info = await (await bus.redis()).info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1_000;
}
