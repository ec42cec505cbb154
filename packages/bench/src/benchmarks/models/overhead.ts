/**
 * Overhead (issue #10): the same model calls through an llm pool in one worker process, and made
 * with the AI SDK alone in a loop at the same concurrency, each against a fake vendor of its own
 * with the same latency.
 */

import { runName } from '../../benchmark';
import { WorkerChild } from '../../children';
import { deleteSwarmKeys } from '../../cleanup';
import { awaitProgress } from '../../progress';
import { median, percentile } from '../../stats';
import {
  closedLoop,
  FAKE_KEY,
  FindingsWatch,
  type LoopTask,
  latenciesOf,
  llmPool,
  ownCpuMs,
  type Part,
  redisCpuMs,
  startTimedFake,
  startWorkers,
  type TimedFake,
  TYPE,
  tearDown,
  workerCpuMs,
  workersGone,
} from './rig';

const MODEL = 'bench-model';
const MODEL_ID = `anthropic:${MODEL}`;
const MAX_OUTPUT_TOKENS = 256;
/** Tasks per postBatch call. */
const CHUNK = 1_000;
const SDK_SCRIPT = new URL('../../workers/models-sdk.ts', import.meta.url);

interface Settings {
  tasks: number;
  concurrency: number;
  latencyMs: number;
  warmup: number;
  serial: number;
  rounds: number;
}

/** CPU milliseconds over a measured backlog, by process. */
interface Cpu {
  /** The worker process (swarm), or the AI SDK loop's process. */
  worker: number;
  /** The benchmark process: the fake vendor, and for swarm the poster and the findings reader. */
  bench: number;
  redis: number;
}

const prompt = (i: number) => `task ${i}`;

/** The AI SDK alone, in a process of its own: `count` calls `inFlight` at a time, on request. */
class SdkLoop {
  readonly #child: WorkerChild;
  #next = 0;

  constructor(fake: TimedFake) {
    this.#child = new WorkerChild('sdk-direct', SDK_SCRIPT, {
      BENCH_BASE_URL: fake.fake.url,
      BENCH_FAKE_KEY: FAKE_KEY,
      BENCH_MODEL: MODEL,
      BENCH_MAX_OUTPUT_TOKENS: String(MAX_OUTPUT_TOKENS),
    });
  }

  ready = () => this.#child.next('ready', 60_000);

  async run(count: number, inFlight: number): Promise<{ ms: number; cpu: Cpu; latencies: number[] }> {
    const bench = ownCpuMs();
    this.#child.send({ type: 'run', first: this.#next, count, inFlight });
    this.#next += count;
    const done = await this.#child.next('done', 600_000);
    const cpu = { worker: Number(done.cpuMs), bench: ownCpuMs() - bench, redis: 0 };
    return { ms: Number(done.ms), cpu, latencies: done.latencies as number[] };
  }

  stop = () => this.#child.stop();
}

/** p50s of where a swarm task's time goes, in the benchmark process's clock. */
interface Breakdown {
  /** Post → its request reaches the fake: post, claim, prompt, reservation, the SDK's request. */
  before: number;
  /** The answer's end → the finding seen: the SDK's stream, settlement, completion, the findings stream. */
  after: number;
  /** The call as the worker timed it (usage.calls[].ms, whole ms), over the fake's latency. */
  call: number;
}

/** One llm pool in one worker process, and the findings it writes, seen from the benchmark process. */
class PoolUnderTest {
  #next = 0;

  private constructor(
    readonly part: Part,
    readonly swarm: string,
    readonly fake: TimedFake,
    readonly worker: WorkerChild,
    readonly watch: FindingsWatch,
  ) {}

  static async start(part: Part, fake: TimedFake, s: Settings): Promise<PoolUnderTest> {
    const swarm = runName('bench-models-overhead');
    const [worker] = await startWorkers(
      part.ctx,
      {
        swarm,
        providers: { anthropic: { fake: fake.fake } },
        prices: { [MODEL_ID]: { inputPerMTok: 2, outputPerMTok: 16 } },
        pools: [llmPool(s.concurrency, { model: MODEL_ID, maxOutputTokens: MAX_OUTPUT_TOKENS })],
      },
      1,
    );
    return new PoolUnderTest(part, swarm, fake, worker as WorkerChild, new FindingsWatch(part.bus, swarm));
  }

  /** Tasks kept `inFlight` open, a new one posted as each finding arrives. */
  async loop(count: number, inFlight: number): Promise<LoopTask[]> {
    const first = this.#next;
    this.#next += count;
    const tasks = await closedLoop(this.part.bus, this.swarm, this.watch, {
      count,
      inFlight,
      input: (i) => ({ description: prompt(first + i) }),
    });
    return tasks.map((t) => ({ ...t, index: first + t.index }));
  }

  /** Posts `count` tasks at once, in chunks; from the first post to the last finding. */
  async backlog(count: number): Promise<{ ms: number; cpu: Cpu }> {
    const { bus, ctx } = this.part;
    const first = this.#next;
    this.#next += count;
    const before: Cpu = {
      worker: await workerCpuMs(this.worker),
      bench: ownCpuMs(),
      redis: await redisCpuMs(bus),
    };
    const started = performance.now();
    const arrivals: Promise<number>[] = [];
    let arrived = 0;
    const counted = (at: number) => {
      arrived++;
      return at;
    };
    for (let i = 0; i < count; i += CHUNK) {
      const inputs = Array.from({ length: Math.min(CHUNK, count - i) }, (_, j) => ({
        description: prompt(first + i + j),
      }));
      for (const { id } of await bus.postBatch(this.swarm, TYPE, inputs))
        arrivals.push(this.watch.arrival(id).then(counted));
    }
    let last = 0;
    const all = Promise.all(arrivals).then((times) => {
      last = Math.max(...times);
    });
    await awaitProgress(all, {
      progress: () => arrived,
      total: count,
      what: `${this.swarm} findings`,
      dead: workersGone([this.worker]),
      log: ctx.log,
    });
    const cpu = {
      worker: (await workerCpuMs(this.worker)) - before.worker,
      bench: ownCpuMs() - before.bench,
      redis: (await redisCpuMs(bus)) - before.redis,
    };
    return { ms: last - started, cpu };
  }

  breakdown(tasks: readonly LoopTask[], latencyMs: number): Breakdown {
    const arrivalOf = new Map<string, number>();
    for (const [n, request] of this.fake.fake.requests.entries()) {
      const at = this.fake.arrivals[n];
      if (at !== undefined) arrivalOf.set(request.prompt, at);
    }
    const before: number[] = [];
    const after: number[] = [];
    const call: number[] = [];
    for (const task of tasks) {
      const at = arrivalOf.get(prompt(task.index));
      if (at === undefined) continue;
      before.push(at - task.postedAt);
      after.push(task.foundAt - at - latencyMs);
      const ms = this.watch.findings.get(task.taskId)?.usage?.calls.at(-1)?.ms;
      if (ms !== undefined) call.push(ms - latencyMs);
    }
    return { before: percentile(before, 50), after: percentile(after, 50), call: percentile(call, 50) };
  }

  close = () => tearDown(this.part.bus, this.swarm, { workers: [this.worker], watch: this.watch });
}

/**
 * The Redis steps of one task, each timed on its own from the benchmark process (p50 ms): what
 * the serial path pays in round trips. `report` runs the completion script a pool's delivery runs.
 */
async function redisSteps(part: Part, samples: number): Promise<Record<string, number>> {
  const { bus } = part;
  const swarm = runName('bench-models-steps');
  const times = {
    post: [] as number[],
    reserve: [] as number[],
    settle: [] as number[],
    report: [] as number[],
  };
  const timed = async <T>(list: number[], work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await work();
    list.push(performance.now() - started);
    return value;
  };
  const budgets = ['swarm', `pool:${TYPE}`];
  const rates = [{ name: 'anthropic' }];
  try {
    for (let i = 0; i < samples; i++) {
      await timed(times.post, () => bus.post(swarm, TYPE, { description: prompt(i) }));
      // Untimed: the claim only gives `report` a task; a pool reads with a blocking XREADGROUP instead.
      const claim = await bus.claim(swarm, TYPE);
      if (!claim) throw new Error('redis steps: bus.claim found no task');
      const holder = `${TYPE}/step-${i}`;
      const hold = {
        holder,
        usd: 0.005,
        tokens: 260,
        budgets: budgets.map((name) => ({ name })),
        rates,
        holdMs: 60_000,
      };
      await timed(times.reserve, () => bus.ledger.reserve(swarm, hold));
      await timed(times.settle, () =>
        bus.ledger.settle(swarm, { holder, usd: 0.001, tokens: 60, budgets, rates }),
      );
      await timed(times.report, () => bus.report(claim.handle, { summary: 'echo' }));
    }
  } finally {
    await deleteSwarmKeys(bus, swarm).catch(() => 0);
  }
  return Object.fromEntries(Object.entries(times).map(([step, list]) => [step, percentile(list, 50)]));
}

const addCpu = (a: Cpu, b: Cpu): Cpu => ({
  worker: a.worker + b.worker,
  bench: a.bench + b.bench,
  redis: a.redis + b.redis,
});

export async function overhead(part: Part): Promise<void> {
  const { ctx, out, notes } = part;
  const s: Settings = {
    tasks: ctx.int('tasks'),
    concurrency: ctx.int('concurrency'),
    latencyMs: ctx.int('latency-ms'),
    warmup: ctx.int('warmup'),
    serial: ctx.int('serial'),
    rounds: ctx.int('rounds'),
  };
  const sdkFake = await startTimedFake({ kind: 'anthropic', latencyMs: s.latencyMs });
  const poolFake = await startTimedFake({ kind: 'anthropic', latencyMs: s.latencyMs });
  const sdk = new SdkLoop(sdkFake);
  let pool: PoolUnderTest | undefined;
  try {
    await sdk.ready();
    pool = await PoolUnderTest.start(part, poolFake, s);
    await sdk.run(s.warmup, s.concurrency);
    await pool.loop(s.warmup, s.concurrency);
    const rates = { sdk: [] as number[], swarm: [] as number[] };
    let sdkCpu: Cpu = { worker: 0, bench: 0, redis: 0 };
    let swarmCpu = sdkCpu;
    const sdkLoaded: number[] = [];
    for (let round = 0; round < s.rounds; round++) {
      for (const system of round % 2 === 0 ? ['sdk-direct', 'swarm'] : ['swarm', 'sdk-direct']) {
        ctx.log(
          `overhead: round ${round + 1}/${s.rounds} ${system}, ${s.tasks} tasks at concurrency ${s.concurrency}`,
        );
        if (system === 'swarm') {
          const run = await pool.backlog(s.tasks);
          rates.swarm.push(s.tasks / (run.ms / 1000));
          swarmCpu = addCpu(swarmCpu, run.cpu);
        } else {
          const run = await sdk.run(s.tasks, s.concurrency);
          rates.sdk.push(s.tasks / (run.ms / 1000));
          sdkCpu = addCpu(sdkCpu, run.cpu);
          sdkLoaded.push(...run.latencies);
        }
      }
    }
    ctx.log(
      `overhead: latency, ${s.tasks} tasks kept ${s.concurrency} in flight, then ${s.serial} one at a time`,
    );
    const loaded = await pool.loop(s.tasks, s.concurrency);
    const serial = await pool.loop(s.serial, 1);
    const sdkSerial = (await sdk.run(s.serial, 1)).latencies;
    const steps = await redisSteps(part, s.serial);

    const over = (latencies: number[], p = 50) => percentile(latencies, p) - s.latencyMs;
    const swarmRate = median(rates.swarm);
    const sdkRate = median(rates.sdk);
    out.add('swarm', 'tasks_per_sec', swarmRate, 'tasks/s');
    out.add('sdk-direct', 'tasks_per_sec', sdkRate, 'tasks/s');
    out.add('swarm', 'ratio_vs_sdk_direct', swarmRate / sdkRate, 'x');
    out.add('swarm', 'overhead_p50_ms', over(latenciesOf(loaded)), 'ms');
    out.add('sdk-direct', 'overhead_p50_ms', over(sdkLoaded), 'ms');
    out.add('swarm', 'serial_overhead_p50_ms', over(latenciesOf(serial)), 'ms');
    out.add('sdk-direct', 'serial_overhead_p50_ms', over(sdkSerial), 'ms');
    const rounds = s.tasks * s.rounds;
    out.add('swarm', 'worker_cpu_ms_per_task', swarmCpu.worker / rounds, 'ms');
    out.add('sdk-direct', 'worker_cpu_ms_per_task', sdkCpu.worker / rounds, 'ms');

    const ms = (n: number) => `${n.toFixed(2)} ms`;
    const perTask = (total: number) => ms(total / (s.tasks * s.rounds));
    const parts = (b: Breakdown) =>
      `post → request at the fake ${ms(b.before)}, answer's end → finding seen ${ms(b.after)}; the call as the worker timed it ${ms(b.call)}`;
    notes.push(
      `overhead: fake latency ${s.latencyMs} ms (anthropic API, streamed), concurrency ${s.concurrency}, one worker process, after ${s.warmup} unmeasured tasks`,
      `  tasks_per_sec: median of ${s.rounds} round(s) of ${s.tasks} tasks, the system that goes first alternating; sdk-direct: streamText`,
      '    in a loop in one process, each call read to its end; swarm: one llm pool, from the first post of a backlog to the last finding seen',
      `    rounds: swarm ${rates.swarm.map((r) => r.toFixed(0)).join(', ')}; sdk-direct ${rates.sdk.map((r) => r.toFixed(0)).join(', ')} tasks/s`,
      `  overhead_p50_ms: p50 of post → finding (sdk-direct: call start → end) minus ${s.latencyMs} ms, ${s.concurrency} in flight (swarm: ${s.tasks} more tasks,`,
      `    a new one posted as each finding arrives, so none waits for a slot; sdk-direct: the rounds' calls); serial_: ${s.serial} tasks one at a time`,
      `  p99 over the fake's latency: swarm ${ms(over(latenciesOf(loaded), 99))} loaded, ${ms(over(latenciesOf(serial), 99))} serial; sdk-direct ${ms(over(sdkLoaded, 99))}, ${ms(over(sdkSerial, 99))}`,
      `  swarm p50s, ${s.concurrency} in flight: ${parts(pool.breakdown(loaded, s.latencyMs))}`,
      `  swarm p50s, one at a time: ${parts(pool.breakdown(serial, s.latencyMs))} (usage.calls[].ms, whole ms)`,
      `  CPU per task over the rounds (process.cpuUsage, INFO cpu): swarm worker ${perTask(swarmCpu.worker)}, benchmark process (fake, poster,`,
      `    findings reader) ${perTask(swarmCpu.bench)}, redis-server ${perTask(swarmCpu.redis)}; sdk-direct process ${perTask(sdkCpu.worker)}, its fake ${perTask(sdkCpu.bench)}`,
      `  Redis steps of a task, each alone from the benchmark process (p50): ${Object.entries(steps)
        .map(([step, p50]) => `${step} ${ms(p50)}`)
        .join(', ')}`,
      `  duplicate findings: ${pool.watch.duplicates}`,
    );
  } finally {
    await sdk.stop();
    await pool?.close();
    await Promise.all([sdkFake.fake.close(), poolFake.fake.close()]);
  }
}
