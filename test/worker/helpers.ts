import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, WorkerPoolSpec } from '@swarm/core';
import { WorkerPool } from '@swarm/worker';

// Failing tasks on purpose makes pools log warnings; keep the test output for what matters.
process.env.SWARM_LOG_LEVEL ??= 'silent';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A pool spec with the topology's defaults, fast retries, and whatever the test overrides. */
export function poolSpec(
  overrides: Partial<WorkerPoolSpec> & Pick<WorkerPoolSpec, 'handler'>,
): WorkerPoolSpec {
  return {
    type: 'work',
    concurrency: 1,
    leaseMs: 30_000,
    timeoutMs: 10_000,
    maxAttempts: 3,
    backoff: { baseMs: 10, maxMs: 20 },
    isolation: 'none',
    assist: false,
    ...overrides,
  };
}

/** Pools started by a test, stopped after it. */
export class Pools {
  readonly #pools: WorkerPool[] = [];

  start(bus: Bus, swarm: string, spec: WorkerPoolSpec, baseDir = FIXTURES): WorkerPool {
    const pool = new WorkerPool({ bus, swarm, spec, baseDir });
    pool.start();
    this.#pools.push(pool);
    return pool;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#pools.splice(0).map((p) => p.stop()));
  }
}

/** Polls until the condition holds; fails with `what` after the deadline. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = 'condition',
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(20);
  }
}

/** Whether a process exists and is not a zombie waiting for a parent that will never reap it. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

let counter = 0;
export function uniqueSwarm(): string {
  counter++;
  return `w${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
