import type { Bus, Finding, ProviderSpec, WorkerPoolSpec } from '@swarm/core';
import { workerPoolSchema } from '@swarm/core';
import { type ModelSettings, WorkerPool } from '@swarm/worker';
import { type FakeVendor, type FakeVendorOptions, startFakeVendor } from '@swarm/worker/testing';
import { FIXTURES, until } from '../worker/helpers';

export { uniqueSwarm, until } from '../worker/helpers';

/** An llm pool's spec as the topology would parse it: schema defaults, fast retries, the test's settings. */
export function llmPoolSpec(
  llm: Record<string, unknown>,
  pool: Record<string, unknown> = {},
): WorkerPoolSpec {
  return workerPoolSchema.parse({
    type: 'ask',
    handler: { llm },
    backoff: { baseMs: 10, maxMs: 20 },
    timeoutMs: 10_000,
    ...pool,
  });
}

/** Fake vendors and llm pools a test starts, all stopped after it. */
export class LlmRig {
  readonly #pools: WorkerPool[] = [];
  readonly #fakes: FakeVendor[] = [];

  async vendor(options: FakeVendorOptions): Promise<FakeVendor> {
    const fake = await startFakeVendor(options);
    this.#fakes.push(fake);
    return fake;
  }

  /** Starts a pool and waits until it claims tasks (or rejects, when its handler cannot load). */
  async pool(bus: Bus, swarm: string, spec: WorkerPoolSpec, models: ModelSettings): Promise<WorkerPool> {
    const pool = new WorkerPool({ bus, swarm, spec, baseDir: FIXTURES, models });
    pool.start();
    this.#pools.push(pool);
    await pool.ready;
    return pool;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#pools.splice(0).map((p) => p.stop()));
    await Promise.all(this.#fakes.splice(0).map((f) => f.close()));
  }
}

/** A providers block pointing each named provider at its fake. */
export function providersOf(
  fakes: Record<string, FakeVendor>,
  extra: Record<string, Partial<ProviderSpec>> = {},
): Record<string, ProviderSpec> {
  return Object.fromEntries(
    Object.entries(fakes).map(([name, fake]) => [
      name,
      { baseURL: fake.url, apiKey: fake.apiKey, ...extra[name] },
    ]),
  );
}

/** Waits for `count` findings and returns them. */
export async function findings(bus: Bus, swarm: string, count: number, limitMs = 15_000): Promise<Finding[]> {
  let found: Finding[] = [];
  await until(
    async () => {
      found = await bus.readFindings(swarm);
      return found.length >= count;
    },
    () => `${count} findings (have ${found.length})`,
    limitMs,
  );
  return found;
}
