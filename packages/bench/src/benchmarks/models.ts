import { RedisBus } from '@swarm/core';
import { type Benchmark, Rows } from '../benchmark';
import { budget } from './models/budget';
import { hedging } from './models/hedging';
import { limits } from './models/limits';
import { overhead } from './models/overhead';
import type { Part } from './models/rig';
import { routing } from './models/routing';

/**
 * Model workers against fake vendors (issue #10, "Speed and accuracy"): what an llm pool adds to
 * the AI SDK's own calls, whether budgets and rate limits hold across processes, what hedging buys
 * and costs, and what `route: cheapest` saves.
 */

const PARTS = { overhead, budget, limits, hedging, routing } as const;
type PartName = keyof typeof PARTS;
const isPart = (name: string): name is PartName => Object.hasOwn(PARTS, name);

export const models: Benchmark = {
  name: 'models',
  summary: 'llm pools against fake vendors: overhead vs the AI SDK, budgets, rate limits, hedging, routing',
  flags: {
    parts: { default: Object.keys(PARTS).join(','), help: 'parts to run, comma-separated' },
    tasks: {
      default: 2_000,
      help: 'overhead: tasks per system for tasks/s, and as many kept in flight for overhead_p50_ms',
    },
    concurrency: { default: 64, help: 'overhead: pool and AI SDK loop concurrency' },
    warmup: { default: 200, help: 'overhead: unmeasured tasks per system first' },
    rounds: {
      default: 3,
      help: 'overhead: rounds for tasks/s, alternating which system goes first; medians reported',
    },
    serial: { default: 200, help: 'overhead: tasks per system one at a time, for serial_overhead_p50_ms' },
    'latency-ms': { default: 50, help: "every fake vendor's answer time" },
    procs: { default: 4, help: 'budget, limits: worker processes' },
    'proc-concurrency': {
      default: 16,
      help: 'budget, limits, routing: pool concurrency per worker process',
    },
    'budget-tasks': { default: 150, help: 'budget: tasks of $0.01 posted against the $1.00 budget' },
    rpm: { default: 600, help: "limits: the provider's requests per minute" },
    seconds: { default: 30, help: 'limits: measured window' },
    'warmup-seconds': { default: 5, help: 'limits: unmeasured seconds before the window' },
    'hedge-tasks': { default: 500, help: 'hedging: tasks with and without hedge' },
    'hedge-warmup': { default: 50, help: 'hedging: unmeasured tasks first, per run' },
    'hedge-after-ms': { default: 200, help: 'hedging: hedge.afterMs' },
    'hedge-concurrency': { default: 4, help: 'hedging: pool concurrency, and tasks kept in flight' },
    'route-tasks': { default: 100, help: 'routing: tasks per system' },
  },
  async run(ctx) {
    const names = ctx
      .str('parts')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const unknown = names.filter((n) => !isPart(n));
    if (unknown.length > 0)
      throw new Error(`unknown part ${unknown.join(', ')}: use ${Object.keys(PARTS).join(', ')}`);
    const bus = new RedisBus({ url: ctx.redisUrl });
    const part: Part = { ctx, bus, out: new Rows('models'), notes: [] };
    try {
      for (const name of names.filter(isPart)) {
        ctx.log(`part ${name}`);
        await PARTS[name](part);
      }
    } finally {
      await bus.close();
    }
    return { rows: part.out.rows, notes: part.notes };
  },
};
