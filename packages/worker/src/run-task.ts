import type { Bus, Delivery } from '@swarm/core';
import type { Logger } from 'pino';
import { handlerContext } from './handler-context';
import { toError, toFinding } from './result';
import type { Handler } from './types';

export type TaskOutcome =
  | { outcome: 'completed'; findingId: string; summary: string }
  | { outcome: 'failed'; error: string }
  /** The lease went to another worker: nothing was recorded here. */
  | { outcome: 'lost'; error: string };

const MAX_TIMER_MS = 2_147_483_647;

export class TaskTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'TaskTimeoutError';
  }
}

export interface RunTaskOptions {
  bus: Bus;
  handler: Handler;
  timeoutMs: number;
  /** Logger carrying the pool's fields; the task's id is added here. */
  log: Logger;
}

/**
 * Runs one delivery through a handler and settles it: complete with the finding, or fail (the
 * bus retries with backoff, then dead-letters). Never throws. A handler that outlives its timeout
 * or its lease is not waited for: the signal aborts and the delivery is settled at once.
 */
export async function runDelivery(delivery: Delivery, options: RunTaskOptions): Promise<TaskOutcome> {
  const { task } = delivery;
  const log = options.log.child({ taskId: task.id });
  const controller = new AbortController();
  const abort = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const leaseSignal = delivery.signal;
  const onLeaseLost = () => abort(leaseSignal.reason);
  leaseSignal.addEventListener('abort', onLeaseLost, { once: true });
  // setTimeout fires at once for delays past 2^31-1 ms: cap them (about 24.8 days).
  const timer = setTimeout(
    () => abort(new TaskTimeoutError(options.timeoutMs)),
    Math.min(options.timeoutMs, MAX_TIMER_MS),
  );
  const aborted = new Promise<never>((_, reject) => {
    const signal = controller.signal;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  if (leaseSignal.aborted) onLeaseLost();

  log.debug({ attempt: task.attempt }, 'task started');
  try {
    const ctx = handlerContext(options.bus, task, log, controller.signal);
    const value = await Promise.race([Promise.resolve().then(() => options.handler(ctx)), aborted]);
    const finding = toFinding(value);
    let result: Awaited<ReturnType<Delivery['complete']>>;
    try {
      result = await delivery.complete(finding);
    } catch (error) {
      const message = `could not record the finding: ${toError(error).message}`;
      log.error({ err: message }, 'task not recorded; its lease will lapse and it will be retried');
      return { outcome: 'failed', error: message };
    }
    if (result.duplicate) {
      log.warn('finding not recorded: another worker completed this task first');
      return { outcome: 'lost', error: 'another worker completed this task first' };
    }
    log.debug({ findingId: result.findingId }, 'task completed');
    return { outcome: 'completed', findingId: result.findingId, summary: finding.summary };
  } catch (thrown) {
    // Once the signal has fired, its reason is the cause, whatever the handler threw on the way out.
    const error = controller.signal.aborted ? toError(controller.signal.reason) : toError(thrown);
    try {
      const failed = await delivery.fail(error);
      if (failed.outcome === 'lost') {
        log.warn({ err: error.message }, 'task failed after its lease was lost; nothing recorded');
        return { outcome: 'lost', error: error.message };
      }
      if (failed.outcome === 'dead')
        log.warn({ err: error.message, reason: failed.reason }, 'task dead-lettered');
      else log.warn({ err: error.message, retryInMs: failed.delayMs }, 'task failed; will retry');
    } catch (settle) {
      log.error({ err: toError(settle).message }, 'could not record the failure; its lease will lapse');
    }
    return { outcome: 'failed', error: error.message };
  } finally {
    clearTimeout(timer);
    leaseSignal.removeEventListener('abort', onLeaseLost);
  }
}
