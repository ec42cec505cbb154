import { type Bus, type Delivery, Slots, type WorkerPoolSpec } from '@swarm/core';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { ASSIST_TYPE } from './assist';
import type { ModelSettings } from './llm/llm-handler';
import { defaultLogger } from './logger';
import { resolvePoolHandler } from './resolve';
import { toError } from './result';
import { runDelivery, type TaskOutcome } from './run-task';

/** A pool's spec as the topology gives it; `assist` (default false) and `partitions` (default 1) may be left out. */
export type PoolSpec = Omit<WorkerPoolSpec, 'assist' | 'partitions'> & {
  assist?: boolean;
  partitions?: number;
};

export interface WorkerPoolOptions {
  bus: Bus;
  swarm: string;
  spec: PoolSpec;
  /** Module and command paths in the spec are relative to it (the topology file's directory). */
  baseDir: string;
  logger?: Logger;
  /** Consumer name; defaults to host-pid-random. */
  consumer?: string;
  /** For an llm handler: the topology's providers and prices, and the swarm's budget. */
  models?: ModelSettings;
  /** Called once per delivery when it is settled: what became of it and how long it took. */
  onSettled?: (event: SettledTask) => void;
}

/** One delivery as the pool settled it (a per-task log line, a metric). */
export interface SettledTask {
  taskId: string;
  type: string;
  attempt: number;
  outcome: TaskOutcome;
  /** From the start of the handler to the settlement, on the bus's clock. */
  durationMs: number;
}

/** Defaults of the topology schema, for specs built by hand. */
const DEFAULTS = { concurrency: 1, leaseMs: 30_000, timeoutMs: 300_000, maxAttempts: 3 };

/**
 * Claims tasks of one type and runs each through a fresh handler invocation: at most
 * `concurrency` at once, each bounded by `timeoutMs`, failures retried with backoff until
 * `maxAttempts`, then dead-lettered. Nothing a handler does can crash the pool.
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #running = new Set<Promise<void>>();
  readonly #stats = { completed: 0, failed: 0, deferred: 0, running: 0 };
  #subscription: Subscription | undefined;
  #ready: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#log = (options.logger ?? defaultLogger()).child({
      swarm: options.swarm,
      actor: 'worker-pool',
      type: options.spec.type,
    });
  }

  /**
   * Tasks completed, failed (each failed attempt counts) and deferred (put back for a limit) since
   * start, and running now.
   */
  get stats(): { completed: number; failed: number; deferred: number; running: number } {
    return { ...this.#stats };
  }

  /**
   * Resolves once the handler is loaded and the pool is claiming tasks; rejects when the handler
   * cannot load (the pool then claims nothing, and tasks stay queued). start() logs that too.
   */
  get ready(): Promise<void> {
    return this.#ready ?? Promise.reject(new Error('worker pool not started'));
  }

  /** Loads the handler, then subscribes to the bus with the spec's concurrency, lease and retries. */
  start(): void {
    if (this.#ready) throw new Error(`worker pool for ${this.#options.spec.type} already started`);
    const { bus, swarm, spec, baseDir, consumer, models } = this.#options;
    const timeoutMs = spec.timeoutMs ?? DEFAULTS.timeoutMs;
    const loading = resolvePoolHandler({ ...spec, timeoutMs }, baseDir, bus, { swarm, models });
    // Declared before the pool is ready, so a shard started after it posts to every partition.
    const declared =
      spec.partitions === undefined ? undefined : bus.declarePartitions(swarm, spec.type, spec.partitions);
    this.#ready = Promise.all([loading, declared]).then(
      ([handler]) => {
        if (this.#stopping) return;
        const concurrency = spec.concurrency ?? DEFAULTS.concurrency;
        // With assist, the pool's own tasks and the swarm's help requests share its slots.
        const slots = spec.assist ? new Slots(concurrency) : undefined;
        const claim = (type: string, name: string | undefined) =>
          bus
            .consume(swarm, type, {
              ...(name !== undefined ? { consumer: name } : {}),
              concurrency,
              slots,
              leaseMs: spec.leaseMs ?? DEFAULTS.leaseMs,
              maxAttempts: spec.maxAttempts ?? DEFAULTS.maxAttempts,
              ...(spec.backoff ? { backoff: spec.backoff } : {}),
            })
            .subscribe({
              next: (delivery) => this.#run(delivery, handler, timeoutMs),
              error: (error: unknown) =>
                this.#log.error({ err: toError(error).message, type }, 'worker pool stopped claiming tasks'),
            });
        this.#subscription = claim(spec.type, consumer);
        if (spec.assist)
          this.#subscription.add(
            claim(ASSIST_TYPE, consumer === undefined ? undefined : `${consumer}-assist`),
          );
        this.#log.info(
          { concurrency: spec.concurrency, isolation: spec.isolation, assist: spec.assist === true },
          'worker pool started',
        );
      },
      (error: unknown) => {
        this.#log.error(
          { err: toError(error).message },
          'worker pool cannot start: its handler did not load or its partitions could not be declared',
        );
        throw error;
      },
    );
    // Awaiting `ready` is optional: a load failure must not become an unhandled rejection.
    this.#ready.catch(() => {});
  }

  #run(delivery: Delivery, handler: Parameters<typeof runDelivery>[1]['handler'], timeoutMs: number): void {
    this.#stats.running++;
    const startedAt = this.#options.bus.clock.now();
    const run = runDelivery(delivery, { bus: this.#options.bus, handler, timeoutMs, log: this.#log }).then(
      (result) => {
        if (result.outcome === 'completed') this.#stats.completed++;
        else if (result.outcome === 'deferred') this.#stats.deferred++;
        else this.#stats.failed++;
        const { task } = delivery;
        try {
          this.#options.onSettled?.({
            taskId: task.id,
            type: task.type,
            attempt: task.attempt,
            outcome: result,
            durationMs: this.#options.bus.clock.now() - startedAt,
          });
        } catch (error) {
          this.#log.warn({ err: toError(error).message }, 'onSettled threw');
        }
      },
    );
    const tracked = run.finally(() => {
      this.#stats.running--;
      this.#running.delete(tracked);
    });
    this.#running.add(tracked);
  }

  /** Stops claiming; resolves once every running task has been settled. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#ready?.catch(() => {});
      this.#subscription?.unsubscribe();
      while (this.#running.size > 0) await Promise.all(this.#running);
      this.#log.info({ ...this.#stats }, 'worker pool stopped');
    })();
    return this.#stopping;
  }
}
