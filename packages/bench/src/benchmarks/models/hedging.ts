/**
 * Hedging (issue #10): a vendor whose every tenth call takes 2 s, with a steady one as the
 * fallback; the same tasks with and without `hedge`: tail latency, what the extra calls cost,
 * and whether any task got two findings.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runName } from '../../benchmark';
import type { WorkerChild } from '../../children';
import { percentile, summarize } from '../../stats';
import {
  closedLoop,
  FindingsWatch,
  latenciesOf,
  llmPool,
  type Part,
  prose,
  startTimedFake,
  startWorkers,
  swarmSpend,
  tearDown,
} from './rig';

const FLAKY = 'anthropic:bench-flaky';
const STEADY = 'openai:bench-steady';
/** The same price for both, so the extra cost is the extra calls', not another model's rate. */
const PRICE = { inputPerMTok: 2, outputPerMTok: 16 };
const USAGE = { inputTokens: 1_000, outputTokens: 500 };
const PROMPT_CHARS = 3_500;
const SLOW_MS = 2_000;
const SLOW_EVERY = 10;
const SLOW_TEXT =
  'A slow answer: the vendor takes its time over every word of this reply, as it does now and then.';
/** After the last finding, how long to keep listening for a second one. */
const DUPLICATE_GRACE_MS = 1_000;

interface RunResult {
  latencies: number[];
  costUsd: number;
  findingsCostUsd: number;
  duplicates: number;
  tasksPerSec: number;
  /** p50s over the tasks a hedge answered: post → the hedge's request, that request → the finding. */
  hedged: { toHedge: number; toFinding: number; count: number } | undefined;
  /** Requests each vendor received over the measured tasks, and how many of them swarm stopped. */
  calls: { flaky: number; steady: number };
  aborted: { flaky: number; steady: number };
}

async function run(
  part: Part,
  settings: { tasks: number; warmup: number; concurrency: number },
  hedgeAfterMs: number | undefined,
): Promise<RunResult> {
  const { tasks, warmup, concurrency } = settings;
  const { ctx, bus } = part;
  const latencyMs = ctx.int('latency-ms');
  const flaky = await startTimedFake({ kind: 'anthropic', latencyMs, usage: USAGE }, (n) =>
    n % SLOW_EVERY === SLOW_EVERY - 1 ? { text: SLOW_TEXT, latencyMs: SLOW_MS } : undefined,
  );
  const steady = await startTimedFake({ kind: 'openai', latencyMs, usage: USAGE });
  const swarm = runName('bench-models-hedge');
  let workers: WorkerChild[] | undefined;
  let watch: FindingsWatch | undefined;
  try {
    const llm = {
      model: FLAKY,
      fallback: [STEADY],
      maxOutputTokens: 1_000,
      ...(hedgeAfterMs !== undefined ? { hedge: { afterMs: hedgeAfterMs } } : {}),
    };
    workers = await startWorkers(
      ctx,
      {
        swarm,
        providers: { anthropic: { fake: flaky.fake }, openai: { fake: steady.fake } },
        prices: { [FLAKY]: PRICE, [STEADY]: PRICE },
        pools: [llmPool(concurrency, llm)],
      },
      1,
    );
    watch = new FindingsWatch(bus, swarm);
    const tasksOf = (label: string, count: number) =>
      closedLoop(bus, swarm, watch as FindingsWatch, {
        count,
        inFlight: concurrency,
        input: (i) => ({ description: prose(`${label} ${i}`, PROMPT_CHARS) }),
      });
    // Both vendors' paths warm (a hedge's first call to its vendor opens a connection, compiles code).
    await tasksOf('warm-up', warmup);
    const before = {
      spent: (await swarmSpend(bus, swarm)).spentUsd,
      flaky: flaky.arrivals.length,
      steady: steady.arrivals.length,
    };
    const abortedBefore = { flaky: flaky.fake.counts.aborted, steady: steady.fake.counts.aborted };
    const loop = await tasksOf('task', tasks);
    await sleep(DUPLICATE_GRACE_MS);
    const { spentUsd } = await swarmSpend(bus, swarm);
    let findingsCostUsd = 0;
    for (const task of loop) findingsCostUsd += watch.findings.get(task.taskId)?.usage?.costUsd ?? 0;
    // Tasks the hedge answered: post → the hedge's request at the steady vendor → the finding.
    const hedgeArrival = new Map<string, number>();
    for (const [n, request] of steady.fake.requests.entries()) {
      const at = steady.arrivals[n];
      if (at !== undefined) hedgeArrival.set(request.prompt, at);
    }
    const toHedge: number[] = [];
    const hedgeToFinding: number[] = [];
    for (const task of loop) {
      const at = hedgeArrival.get(prose(`task ${task.index}`, PROMPT_CHARS));
      if (at === undefined || watch.findings.get(task.taskId)?.usage?.provider !== 'openai') continue;
      toHedge.push(at - task.postedAt);
      hedgeToFinding.push(task.foundAt - at);
    }
    const first = Math.min(...loop.map((t) => t.postedAt));
    const last = Math.max(...loop.map((t) => t.foundAt));
    return {
      latencies: latenciesOf(loop),
      tasksPerSec: tasks / ((last - first) / 1_000),
      hedged:
        toHedge.length > 0
          ? {
              toHedge: percentile(toHedge, 50),
              toFinding: percentile(hedgeToFinding, 50),
              count: toHedge.length,
            }
          : undefined,
      costUsd: spentUsd - before.spent,
      findingsCostUsd,
      duplicates: watch.duplicates,
      calls: { flaky: flaky.arrivals.length - before.flaky, steady: steady.arrivals.length - before.steady },
      aborted: {
        flaky: flaky.fake.counts.aborted - abortedBefore.flaky,
        steady: steady.fake.counts.aborted - abortedBefore.steady,
      },
    };
  } finally {
    await tearDown(bus, swarm, {
      ...(workers ? { workers } : {}),
      ...(watch ? { watch } : {}),
      fakes: [flaky, steady],
    });
  }
}

export async function hedging(part: Part): Promise<void> {
  const { ctx, out, notes } = part;
  const settings = {
    tasks: ctx.int('hedge-tasks'),
    warmup: ctx.int('hedge-warmup'),
    concurrency: ctx.int('hedge-concurrency'),
  };
  const { tasks, concurrency } = settings;
  const afterMs = ctx.int('hedge-after-ms');
  const latencyMs = ctx.int('latency-ms');
  ctx.log(`hedging: ${tasks} tasks without hedge`);
  const plain = await run(part, settings, undefined);
  ctx.log(`hedging: ${tasks} tasks with hedge after ${afterMs} ms`);
  const hedged = await run(part, settings, afterMs);
  out.addLatency('swarm-no-hedge', '', summarize(plain.latencies));
  out.addLatency('swarm-hedge', '', summarize(hedged.latencies));
  out.add('swarm-hedge', 'extra_cost_pct', (hedged.costUsd / plain.costUsd - 1) * 100, '%');
  out.add('swarm-no-hedge', 'duplicate_findings', plain.duplicates, 'findings');
  out.add('swarm-hedge', 'duplicate_findings', hedged.duplicates, 'findings');
  const usd = (n: number) => `$${n.toFixed(4)}`;
  notes.push(
    `hedging: ${tasks} tasks kept ${concurrency} in flight, after ${settings.warmup} unmeasured, one worker process, pool concurrency ${concurrency}; model ${FLAKY}, fallback ${STEADY}`,
    `  ${FLAKY}: every ${SLOW_EVERY}th request answers after ${SLOW_MS} ms, the others after ${latencyMs} ms; ${STEADY}: always ${latencyMs} ms`,
    "  both $2 / $16 a million tokens, every answer 1,000 tokens in and 500 out ($0.0100); a call stopped early is costed by swarm's estimate (its prompt, and the text received)",
    `  p50_ms / p99_ms: post → finding; swarm-hedge asks ${STEADY} too once ${FLAKY} has not answered in ${afterMs} ms (hedge.afterMs)`,
    `  extra_cost_pct: ledger spend over the measured tasks, hedge ÷ no hedge - 1; duplicates counted on the findings stream, listened to ${DUPLICATE_GRACE_MS} ms past the last`,
    `  no hedge: ${plain.calls.flaky} calls to ${FLAKY}, ${plain.calls.steady} to ${STEADY}; spent ${usd(plain.costUsd)} (findings' usage ${usd(plain.findingsCostUsd)})`,
    `  hedge: ${hedged.calls.flaky} calls to ${FLAKY} (${hedged.aborted.flaky} stopped), ${hedged.calls.steady} hedges to ${STEADY} (${hedged.aborted.steady} stopped); spent ${usd(hedged.costUsd)} (findings' usage ${usd(hedged.findingsCostUsd)})`,
    `  p99.9: ${percentile(plain.latencies, 99.9).toFixed(0)} ms without, ${percentile(hedged.latencies, 99.9).toFixed(0)} ms with; ${plain.tasksPerSec.toFixed(0)} and ${hedged.tasksPerSec.toFixed(0)} tasks/s (a slot no longer waits 2 s)`,
    ...(hedged.hedged
      ? [
          `  the ${hedged.hedged.count} tasks a hedge answered, p50: post → the hedge's request at the fake ${hedged.hedged.toHedge.toFixed(1)} ms, that request → the finding ${hedged.hedged.toFinding.toFixed(1)} ms`,
        ]
      : []),
  );
}
