/**
 * Routing (issue #10): a mix of short, medium and long prompts over three priced models of three
 * vendors, each with a smaller window than the next: what `route: cheapest` spends, beside
 * sending every task to the most capable (and dearest) model.
 */
import type { Finding } from '@swarm/core';
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
  swarmSpend,
  TYPE,
  tearDown,
} from './rig';

const SMALL = 'openai:bench-small';
const MEDIUM = 'google:bench-medium';
const LARGE = 'anthropic:bench-large';
/** The list prices of gpt-4.1-nano, claude-haiku-4-5 and claude-sonnet-4-5; windows chosen so the mix needs all three. */
const PRICES = {
  [SMALL]: { inputPerMTok: 0.1, outputPerMTok: 0.4, contextWindow: 8_000 },
  [MEDIUM]: { inputPerMTok: 1, outputPerMTok: 5, contextWindow: 32_000 },
  [LARGE]: { inputPerMTok: 3, outputPerMTok: 15, contextWindow: 200_000 },
};
const MAX_OUTPUT_TOKENS = 1_000;
/** Every answer: 500 tokens; the prompt is counted by the fake (4 characters a token). */
const USAGE = { outputTokens: 500 };
/** Of every ten tasks: six short, three medium, one long (tokens by swarm's estimate, 3.5 characters each). */
const CLASSES = [
  { name: 'short', tokens: 1_500, of10: 6 },
  { name: 'medium', tokens: 12_000, of10: 3 },
  { name: 'long', tokens: 48_000, of10: 1 },
] as const;
type ClassName = (typeof CLASSES)[number]['name'];
const CHUNK = 10;

function classOf(i: number): (typeof CLASSES)[number] {
  let upTo = 0;
  for (const c of CLASSES) {
    upTo += c.of10;
    if (i % 10 < upTo) return c;
  }
  return CLASSES[0];
}

interface PerClass {
  costUsd: number;
  models: Map<string, number>;
}

async function run(part: Part, system: string, llm: Record<string, unknown>, tasks: number) {
  const { ctx, bus } = part;
  const latencyMs = ctx.int('latency-ms');
  const fakes = {
    openai: await startTimedFake({ kind: 'openai', latencyMs, usage: USAGE }),
    google: await startTimedFake({ kind: 'google', latencyMs, usage: USAGE }),
    anthropic: await startTimedFake({ kind: 'anthropic', latencyMs, usage: USAGE }),
  };
  const swarm = runName(`bench-models-${system}`);
  let workers: WorkerChild[] | undefined;
  let watch: FindingsWatch | undefined;
  try {
    workers = await startWorkers(
      ctx,
      {
        swarm,
        providers: {
          openai: { fake: fakes.openai.fake },
          google: { fake: fakes.google.fake },
          anthropic: { fake: fakes.anthropic.fake },
        },
        prices: PRICES,
        pools: [llmPool(ctx.int('proc-concurrency'), { maxOutputTokens: MAX_OUTPUT_TOKENS, ...llm })],
      },
      1,
    );
    watch = new FindingsWatch(bus, swarm);
    const classOfTask = new Map<string, ClassName>();
    for (let i = 0; i < tasks; i += CHUNK) {
      const indexes = Array.from({ length: Math.min(CHUNK, tasks - i) }, (_, j) => i + j);
      const inputs = indexes.map((n) => ({ description: prose(`task ${n}`, classOf(n).tokens * 3.5) }));
      const posted = await bus.postBatch(swarm, TYPE, inputs);
      for (const [j, { id }] of posted.entries()) classOfTask.set(id, classOf(indexes[j] as number).name);
    }
    const deadLetters = await awaitSettled(ctx, bus, swarm, watch, tasks, workers);
    if (deadLetters > 0) throw new Error(`routing ${system}: ${deadLetters} tasks dead-lettered`);
    const { spentUsd } = await swarmSpend(bus, swarm);
    const perClass = new Map<ClassName, PerClass>();
    for (const finding of watch.findings.values()) tally(perClass, classOfTask.get(finding.taskId), finding);
    return { costUsd: spentUsd, perClass };
  } finally {
    await tearDown(bus, swarm, {
      ...(workers ? { workers } : {}),
      ...(watch ? { watch } : {}),
      fakes: Object.values(fakes),
    });
  }
}

function tally(perClass: Map<ClassName, PerClass>, name: ClassName | undefined, finding: Finding): void {
  if (!name || !finding.usage) return;
  const entry = perClass.get(name) ?? { costUsd: 0, models: new Map<string, number>() };
  entry.costUsd += finding.usage.costUsd;
  const model = `${finding.usage.provider}:${finding.usage.model}`;
  entry.models.set(model, (entry.models.get(model) ?? 0) + 1);
  perClass.set(name, entry);
}

export async function routing(part: Part): Promise<void> {
  const { ctx, out, notes } = part;
  const tasks = ctx.int('route-tasks');
  ctx.log(`routing: ${tasks} tasks with route: cheapest`);
  const cheapest = await run(
    part,
    'route-cheapest',
    { model: LARGE, fallback: [MEDIUM, SMALL], route: 'cheapest' },
    tasks,
  );
  ctx.log(`routing: ${tasks} tasks to ${LARGE} alone`);
  const capable = await run(part, 'most-capable', { model: LARGE }, tasks);
  out.add('route-cheapest', 'cost_usd', cheapest.costUsd, 'USD');
  out.add('most-capable', 'cost_usd', capable.costUsd, 'USD');
  out.add('route-cheapest', 'cheaper_x', capable.costUsd / cheapest.costUsd, 'x');
  notes.push(
    `routing: ${tasks} tasks, one worker process; per 10 tasks ${CLASSES.map((c) => `${c.of10} ${c.name} (~${c.tokens.toLocaleString('en')} tokens)`).join(', ')}; every answer 500 tokens`,
    `  ${Object.entries(PRICES)
      .map(
        ([m, p]) =>
          `${m} $${p.inputPerMTok} / $${p.outputPerMTok}, window ${p.contextWindow.toLocaleString('en')}`,
      )
      .join('; ')}`,
    `  route-cheapest: model ${LARGE}, fallback [${MEDIUM}, ${SMALL}], route: cheapest; most-capable: ${LARGE} alone; cost_usd from the ledger`,
  );
  for (const c of CLASSES) {
    const a = cheapest.perClass.get(c.name);
    const b = capable.perClass.get(c.name);
    if (!a || !b) continue;
    const models = [...a.models].map(([m, n]) => `${n} to ${m}`).join(', ');
    notes.push(
      `  ${c.name}: route-cheapest $${a.costUsd.toFixed(4)} (${models}), most-capable $${b.costUsd.toFixed(4)}: ${(b.costUsd / a.costUsd).toFixed(2)}x`,
    );
  }
}
