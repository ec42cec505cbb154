import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Bus,
  type DeadLetter,
  type Finding,
  MemoryBus,
  type TaskInput,
  type WorkerPoolSpec,
} from '@swarm/core';
import { WorkerPool } from '@swarm/worker';
import { afterEach, beforeEach } from 'vitest';
import { until } from '../support/until';

// Failing tasks on purpose makes pools log warnings; keep the test output for what matters.
process.env.SWARM_LOG_LEVEL ??= 'silent';

// The worker tests (and test/llm's helpers) take until from here, beside the pools it waits on.
export { until };

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
    partitions: 1,
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

/** What usePools() hands a describe body: read `bus` and `swarm` inside hooks and tests. */
export interface PoolRig<B extends Bus> {
  /** This test's bus, closed after it. */
  readonly bus: B;
  /** A swarm name of this test's own. */
  readonly swarm: string;
  /** Starts a pool in this test's swarm; it is stopped after the test. */
  start(spec: WorkerPoolSpec, baseDir?: string): WorkerPool;
  findings(): Promise<Finding[]>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Stops the pools and moves the test to a swarm of its own again: a second case in one test. */
  nextSwarm(): Promise<void>;
  /** Runs one task through a one-attempt pool; returns its finding or its dead letter's error. */
  runTask(
    handler: WorkerPoolSpec['handler'],
    task?: TaskInput,
    spec?: Partial<WorkerPoolSpec>,
  ): Promise<{ finding?: Finding; error?: string }>;
}

/**
 * A fresh bus and swarm for each test of the enclosing describe, and the pools it starts, all
 * stopped after it. Call it before the hooks that use it: after-hooks run in reverse order.
 */
export function usePools<B extends Bus>(newBus: () => B): PoolRig<B> {
  const pools = new Pools();
  let current: { bus: B; swarm: string } | undefined;
  beforeEach(() => {
    current = { bus: newBus(), swarm: uniqueSwarm() };
  });
  afterEach(async () => {
    await pools.stopAll();
    await current?.bus.close();
  });
  const test = () => {
    // The describe body runs before beforeEach: nothing exists there yet.
    if (!current) throw new Error('usePools(): the bus is made in beforeEach; read it in a hook or test');
    return current;
  };
  const rig: PoolRig<B> = {
    get bus() {
      return test().bus;
    },
    get swarm() {
      return test().swarm;
    },
    start: (spec, baseDir) => pools.start(test().bus, test().swarm, spec, baseDir),
    findings: () => test().bus.readFindings(test().swarm),
    deadLetters: () => test().bus.deadLetters(test().swarm),
    async nextSwarm() {
      await pools.stopAll();
      test().swarm = uniqueSwarm();
    },
    async runTask(handler, task = {}, spec = {}) {
      rig.start(poolSpec({ handler, maxAttempts: 1, ...spec }));
      await test().bus.post(test().swarm, 'work', task);
      await until(
        async () => (await rig.findings()).length + (await rig.deadLetters()).length === 1,
        'the task to settle',
      );
      const [finding] = await rig.findings();
      const [dead] = await rig.deadLetters();
      return { finding, error: dead?.errors[0]?.message };
    },
  };
  return rig;
}

/** usePools() on a MemoryBus: the in-process twin, for tests of the worker alone. */
export function useMemoryPools(): PoolRig<MemoryBus> {
  return usePools(() => new MemoryBus());
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
