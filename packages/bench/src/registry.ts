import type { Benchmark } from './benchmark';
import { broadcast } from './benchmarks/broadcast';
import { cluster } from './benchmarks/cluster';
import { context } from './benchmarks/context';
import { latency } from './benchmarks/latency';
import { mcp } from './benchmarks/mcp';
import { models } from './benchmarks/models';
import { primitives } from './benchmarks/primitives';
import { redisVsSqlite } from './benchmarks/redis-vs-sqlite';
import { spawnBench } from './benchmarks/spawn';
import { throughput } from './benchmarks/throughput';

/** Every benchmark `pnpm bench <name>` can run, in the order they are listed. */
export const benchmarks: Benchmark[] = [
  throughput,
  latency,
  context,
  primitives,
  redisVsSqlite,
  spawnBench,
  broadcast,
  mcp,
  models,
  cluster,
];
