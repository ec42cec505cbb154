/** @swarm/bench: benchmarks of the swarm runtime, run with `pnpm bench <name>`. */
export type { BenchContext, Benchmark, BenchResult, FlagSpec } from './benchmark';
export { describeMachine, type Machine } from './machine';
export { type PrivateRedis, startPrivateRedis } from './redis-server';
export { benchmarks } from './registry';
export type { Row } from './report';
export { median, percentile, summarize } from './stats';
