import type { Bus, Delivery, HandlerSpec } from '@swarm/core';
import type { Logger } from 'pino';
import { type Subscription, take } from 'rxjs';
import { defaultLogger } from './logger';
import { resolveHandler } from './resolve';
import { toError } from './result';
import { type AfterFailure, runDelivery } from './run-task';

export interface RunOnceOptions {
  bus: Bus;
  swarm: string;
  type: string;
  handler: HandlerSpec;
  /** Module and command paths are relative to it. */
  baseDir: string;
  /** How long to wait for a task before answering `no-task`. */
  waitMs: number;
  /** Default 300 000, as in a topology. */
  timeoutMs?: number;
  /** Default 30 000. */
  leaseMs?: number;
  /** Default 3, as in a topology: the attempt that reaches it dead-letters the task. */
  maxAttempts?: number;
  logger?: Logger;
  consumer?: string;
}

export type RunOnceResult =
  | { outcome: 'completed'; taskId: string; findingId: string; summary: string }
  | ({
      outcome: 'failed';
      taskId: string;
      error: string;
      attempt: number;
      maxAttempts: number;
    } & AfterFailure)
  /** The lease went to another worker (after a stall, say), which owns the task now; nothing was recorded here. */
  | { outcome: 'lost'; taskId: string; error: string }
  /** The handler could not run it yet (a budget or rate limit): it comes back after retryInMs. */
  | { outcome: 'deferred'; taskId: string; reason: string; retryInMs: number }
  | { outcome: 'no-task' };

/**
 * One ephemeral worker: claim one task of (swarm, type), run it, report, return. Claims nothing
 * else (concurrency 1, and it stops reading as soon as its task arrives). For `swarm worker --once`.
 */
export async function runOnce(options: RunOnceOptions): Promise<RunOnceResult> {
  const { bus, swarm, type } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const log = (options.logger ?? defaultLogger()).child({ swarm, actor: 'worker', type });
  const handler = await resolveHandler(options.handler, options.baseDir, bus, {
    swarm,
    pool: { type, timeoutMs: options.timeoutMs ?? 300_000 },
  });

  const delivery = await new Promise<Delivery | undefined>((resolve, reject) => {
    let subscription: Subscription | undefined;
    const timer = setTimeout(() => {
      subscription?.unsubscribe();
      resolve(undefined);
    }, options.waitMs);
    try {
      subscription = bus
        .consume(swarm, type, {
          ...(options.consumer !== undefined ? { consumer: options.consumer } : {}),
          concurrency: 1,
          leaseMs: options.leaseMs ?? 30_000,
          maxAttempts,
        })
        // take(1) unsubscribes at the first delivery: the consumer stops reading and drains it.
        .pipe(take(1))
        .subscribe({
          next: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
          error: (error: unknown) => {
            clearTimeout(timer);
            reject(toError(error));
          },
        });
    } catch (error) {
      clearTimeout(timer);
      reject(error);
    }
  });
  if (!delivery) {
    log.debug({ waitMs: options.waitMs }, 'no task');
    return { outcome: 'no-task' };
  }
  const result = await runDelivery(delivery, {
    bus,
    handler,
    timeoutMs: options.timeoutMs ?? 300_000,
    log,
  });
  const taskId = delivery.task.id;
  return result.outcome === 'failed' ? { ...result, taskId, maxAttempts } : { ...result, taskId };
}
