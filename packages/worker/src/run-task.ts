import {
  type Bus,
  type Delivery,
  expiredFinding,
  type FindingInput,
  isExpired,
  LeaseLostError,
  recordSpanError,
  SwarmError,
  startTaskSpan,
  withSpan,
} from '@swarm/core';
import type { Logger } from 'pino';
import { ASSIST_TYPE } from './assist';
import { handlerContext } from './handler-context';
import { toError, toFinding } from './result';
import { isDeferral, isUnretryable } from './task-errors';
import type { Handler } from './types';

export type TaskOutcome =
  | { outcome: 'completed'; findingId: string; summary: string }
  | ({ outcome: 'failed'; error: string; attempt: number } & AfterFailure)
  /** The lease went to another worker: nothing was recorded here. */
  | { outcome: 'lost'; error: string }
  /** The handler could not run it yet: it comes back after `retryInMs`, at the same attempt. */
  | { outcome: 'deferred'; reason: string; retryInMs: number };

/** What becomes of a task whose attempt failed. */
export type AfterFailure =
  /** The bus retries it (attempt + 1) after the backoff. */
  | { next: 'retry'; retryInMs: number }
  /** That was its last attempt: it is in the swarm's dead letters. */
  | { next: 'dead-letter' }
  /**
   * The failure could not be recorded: the lease lapses and a worker reclaims the task, which
   * counts the attempt (and dead-letters it if that was the last).
   */
  | { next: 'reclaim' };

const MAX_TIMER_MS = 2_147_483_647;

export class TaskTimeoutError extends SwarmError<'SWARM_TASK_TIMEOUT'> {
  constructor(readonly timeoutMs: number) {
    super('SWARM_TASK_TIMEOUT', `timed out after ${timeoutMs} ms`);
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
 *
 * Inside a consumer span linked to the post (a no-op unless tracing is on): the handler's own
 * spans are its children, and the finding records its trace id.
 */
export async function runDelivery(delivery: Delivery, options: RunTaskOptions): Promise<TaskOutcome> {
  const span = startTaskSpan(delivery.task, delivery.consumer);
  const outcome = await withSpan(span, () => settleDelivery(delivery, options));
  span.setAttribute('swarm.task.outcome', outcome.outcome);
  if (outcome.outcome === 'completed') span.setAttribute('swarm.finding.id', outcome.findingId);
  else if (outcome.outcome === 'failed' || outcome.outcome === 'lost') recordSpanError(span, outcome.error);
  span.end();
  return outcome;
}

async function settleDelivery(delivery: Delivery, options: RunTaskOptions): Promise<TaskOutcome> {
  const { task } = delivery;
  // The task's logger and abort signal are made on first use: a no-op handler pays for neither.
  let taskLog: Logger | undefined;
  const log = () => {
    taskLog ??= options.log.child({ taskId: task.id });
    return taskLog;
  };
  let controller: AbortController | undefined;
  let abortReason: unknown;
  let rejectAborted: (reason: unknown) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  aborted.catch(() => {});
  const abort = (reason: unknown) => {
    if (abortReason !== undefined) return;
    abortReason = reason;
    controller?.abort(reason);
    rejectAborted(reason);
  };
  const signal = () => {
    if (!controller) {
      controller = new AbortController();
      if (abortReason !== undefined) controller.abort(abortReason);
    }
    return controller.signal;
  };
  const offLost = delivery.onLost(() => abort(new LeaseLostError()));
  // setTimeout fires at once for delays past 2^31-1 ms: cap them (about 24.8 days).
  const timer = setTimeout(
    () => abort(new TaskTimeoutError(options.timeoutMs)),
    Math.min(options.timeoutMs, MAX_TIMER_MS),
  );
  const debug = options.log.isLevelEnabled('debug');

  if (debug) log().debug({ attempt: task.attempt }, 'task started');
  try {
    let finding: FindingInput;
    if (isExpired(task, options.bus.clock.now())) {
      // Whoever wanted this has stopped waiting: record that, and spend nothing on it.
      finding = expiredFinding();
    } else {
      const ctx = handlerContext(options.bus, task, log, signal, delivery);
      const value = await Promise.race([Promise.resolve().then(() => options.handler(ctx)), aborted]);
      finding = toFinding(value);
    }
    if (task.type === ASSIST_TYPE) finding.tags = [...(finding.tags ?? []), 'assist', 'answer'];
    let result: Awaited<ReturnType<Delivery['complete']>>;
    try {
      result = await delivery.complete(finding);
    } catch (error) {
      const message = `could not record the finding: ${toError(error).message}`;
      log().error({ err: message }, 'task not recorded; its lease will lapse and it will be retried');
      return { outcome: 'failed', error: message, attempt: task.attempt, next: 'reclaim' };
    }
    if (result.duplicate) {
      log().warn('finding not recorded: another worker completed this task first');
      return { outcome: 'lost', error: 'another worker completed this task first' };
    }
    if (debug) log().debug({ findingId: result.findingId }, 'task completed');
    return { outcome: 'completed', findingId: result.findingId, summary: finding.summary };
  } catch (thrown) {
    // Once the signal has fired, its reason is the cause, whatever the handler threw on the way out.
    const error = abortReason !== undefined ? toError(abortReason) : toError(thrown);
    const failed = { outcome: 'failed', error: error.message, attempt: task.attempt } as const;
    try {
      if (isDeferral(error)) {
        if (await delivery.defer(error.delayMs)) {
          if (debug) log().debug({ reason: error.message, retryInMs: error.delayMs }, 'task deferred');
          return { outcome: 'deferred', reason: error.message, retryInMs: error.delayMs };
        }
        return { outcome: 'lost', error: error.message };
      }
      const settled = await delivery.fail(error, { retry: !isUnretryable(error) });
      if (settled.outcome === 'lost') {
        log().warn({ err: error.message }, 'task failed after its lease was lost; nothing recorded');
        return { outcome: 'lost', error: error.message };
      }
      if (settled.outcome === 'dead') {
        log().warn({ err: error.message, reason: settled.reason }, 'task dead-lettered');
        return { ...failed, next: 'dead-letter' };
      }
      log().warn(
        { err: error.message, attempt: task.attempt, retryInMs: settled.delayMs },
        'task failed; will retry',
      );
      return { ...failed, next: 'retry', retryInMs: settled.delayMs };
    } catch (settle) {
      log().error({ err: toError(settle).message }, 'could not record the failure; its lease will lapse');
      return { ...failed, next: 'reclaim' };
    }
  } finally {
    clearTimeout(timer);
    offLost();
  }
}
