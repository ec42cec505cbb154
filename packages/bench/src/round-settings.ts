import type { BenchContext } from './benchmark';

/** The load of one throughput round, from the `--tasks`, `--concurrency` and `--chunk` flags. */
export interface RoundSettings {
  tasks: number;
  concurrency: number;
  chunk: number;
}

export function roundSettings(ctx: BenchContext): RoundSettings {
  return { tasks: ctx.int('tasks'), concurrency: ctx.int('concurrency'), chunk: ctx.int('chunk') };
}
