import type { Row } from './report';

/** What a benchmark declares and what the CLI hands it. */

export interface FlagSpec {
  /** Numbers are parsed as positive integers; strings are taken as given. */
  default: number | string;
  help: string;
}

export interface BenchContext {
  /** The Redis every connection of this run goes to (a private redis-server unless --redis). */
  readonly redisUrl: string;
  int(flag: string): number;
  str(flag: string): string;
  /** Progress, to stderr: stdout carries only the table or JSON lines. */
  log(message: string): void;
}

export interface BenchResult {
  rows: Row[];
  /** Printed above the table: what the numbers mean, what was configured. */
  notes: string[];
}

export interface Benchmark {
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Collects rows for one benchmark. */
export class Rows {
  readonly rows: Row[] = [];
  constructor(readonly bench: string) {}

  add(system: string, metric: string, value: number, unit: string): void {
    this.rows.push({ bench: this.bench, system, metric, value, unit });
  }

  /** p50_ms and p99_ms (with an optional prefix such as "set_") from samples in ms. */
  addLatency(system: string, prefix: string, summary: { p50: number; p99: number }): void {
    this.add(system, `${prefix}p50_ms`, summary.p50, 'ms');
    this.add(system, `${prefix}p99_ms`, summary.p99, 'ms');
  }
}

/** Unique, valid swarm/queue name for one run. */
export function runName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Rejects after ms unless the promise settles first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
