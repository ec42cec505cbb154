/**
 * Budget (issue #10): worker processes holding one swarm budget, sent more tasks than it pays
 * for: what was spent, by how much it passed the budget, and how much of the budget went unused.
 */
import { runName } from '../../benchmark';
import type { WorkerChild } from '../../children';
import {
  awaitSettled,
  FindingsWatch,
  llmPool,
  type Part,
  prose,
  startTimedFake,
  startWorkers,
  stopWorkers,
  swarmSpend,
  TYPE,
  tearDown,
} from './rig';

const MODEL_ID = 'anthropic:bench-model';
const BUDGET_USD = 1;
/** $2 and $16 a million tokens, and every call 1,000 tokens in and 500 out: $0.01 a task. */
const PRICES = { [MODEL_ID]: { inputPerMTok: 2, outputPerMTok: 16 } };
const USAGE = { inputTokens: 1_000, outputTokens: 500 };
/** 3,500 characters: 1,000 tokens by swarm's estimate, what the fake reports. */
const PROMPT_CHARS = 3_500;
const MAX_OUTPUT_TOKENS = 1_000;

export async function budget(part: Part): Promise<void> {
  const { ctx, bus, out, notes } = part;
  const procs = ctx.int('procs');
  const concurrency = ctx.int('proc-concurrency');
  const tasks = ctx.int('budget-tasks');
  const vendor = await startTimedFake({ kind: 'anthropic', latencyMs: ctx.int('latency-ms'), usage: USAGE });
  const swarm = runName('bench-models-budget');
  let workers: WorkerChild[] | undefined;
  let watch: FindingsWatch | undefined;
  try {
    workers = await startWorkers(
      ctx,
      {
        swarm,
        providers: { anthropic: { fake: vendor.fake } },
        prices: PRICES,
        budget: { usd: BUDGET_USD },
        pools: [llmPool(concurrency, { model: MODEL_ID, maxOutputTokens: MAX_OUTPUT_TOKENS })],
      },
      procs,
    );
    watch = new FindingsWatch(bus, swarm);
    ctx.log(
      `budget: ${tasks} tasks of about $0.01 against $${BUDGET_USD}, ${procs} processes × ${concurrency}`,
    );
    const inputs = Array.from({ length: tasks }, (_, i) => ({
      description: prose(`task ${i}`, PROMPT_CHARS),
    }));
    await bus.postBatch(swarm, TYPE, inputs);
    const deadLetters = await awaitSettled(ctx, bus, swarm, watch, tasks, workers);
    const stats = await stopWorkers(workers);
    const { spentUsd, heldUsd } = await swarmSpend(bus, swarm);
    const reasons = new Map<string, number>();
    for (const letter of await bus.deadLetters(swarm, { count: tasks })) {
      const reason = (letter.errors.at(-1)?.message ?? letter.reason).replace(/:.*$/, '');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    out.add('swarm', 'spent_usd', spentUsd, 'USD');
    out.add('swarm', 'overshoot_usd', Math.max(0, spentUsd - BUDGET_USD), 'USD');
    out.add('swarm', 'budget_used_ratio', spentUsd / BUDGET_USD, 'x');
    notes.push(
      `budget: $${BUDGET_USD.toFixed(2)} swarm budget, ${procs} worker processes × concurrency ${concurrency}, ${tasks} tasks posted at once`,
      `  each call 1,000 tokens in and 500 out at $2 / $16 a million: $0.0100; each first reserves its worst case (the prompt, with the pool's margin, and ${MAX_OUTPUT_TOKENS} answer tokens: about $0.02)`,
      `  spent_usd from bus.ledger.budgets(swarm); the findings' usage adds up to $${watch.costUsd().toFixed(4)}; $${heldUsd.toFixed(4)} still held at the end`,
      `  ${watch.findings.size} findings (${watch.duplicates} duplicates), ${deadLetters} dead letters (${[...reasons].map(([r, n]) => `${n} "${r}"`).join(', ') || 'none'}), ${vendor.fake.counts.requests} requests to the fake`,
      `  pools: ${stats.completed} completed, ${stats.deferred} deferred (waiting for other calls' reservations), ${stats.failed} failed`,
    );
  } finally {
    await tearDown(bus, swarm, {
      ...(workers ? { workers } : {}),
      ...(watch ? { watch } : {}),
      fakes: [vendor],
    });
  }
}
