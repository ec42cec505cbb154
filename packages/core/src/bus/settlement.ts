import type { Logger } from 'pino';
import { decodeTask, encodeDeadLetter, encodeTask, type Fields } from '../codec';
import type { FailResult, Finding, FindingInput, Task } from '../messages';
import { activeTraceId } from '../tracing/task-trace';
import { type BackoffOptions, backoffDelay } from './backoff';
import { attemptError, errorMessage, MAX_ERROR_MESSAGE } from './delivery';
import type { RawEntry, TaskQueue } from './transport';

/**
 * Settling a delivery, whoever holds it: a consumer's live delivery, or a claim that an agent in
 * another process holds by its handle. One home for each rule, so both settle alike.
 */

/** Tags are non-empty strings, kept in order without repeats; anything else is dropped. */
export function tagsOf(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [];
  return [
    ...new Set(tags.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 100)),
  ];
}

/** The finding a worker's answer to `task` becomes (without its id, which the stream assigns). */
export function findingOf(
  task: Task,
  input: FindingInput,
  workerId: string,
  now: number,
): Omit<Finding, 'id'> {
  const finding: Omit<Finding, 'id'> = {
    swarm: task.swarm,
    taskId: task.id,
    type: task.type,
    summary: String(input.summary ?? ''),
    data: input.data ?? null,
    workerId,
    attempt: task.attempt,
    contextVersion: input.contextVersion ?? task.context,
    parent: task.parent,
    tags: tagsOf(input.tags),
    createdAt: now,
  };
  if (input.usage !== undefined) finding.usage = input.usage;
  // Completed inside the worker's span (see run-task.ts), the finding names that span's trace.
  const traceId = activeTraceId();
  if (traceId !== undefined) finding.traceId = traceId;
  return finding;
}

/** A task claimed after its deadline is recorded as this, unrun: whoever wanted it stopped waiting. */
export function expiredFinding(): FindingInput {
  return { summary: 'expired: not started before its deadline', tags: ['expired'] };
}

/** Whether `task` is past its deadline at `now` (the claiming worker's clock). */
export function isExpired(task: Task, now: number): boolean {
  return task.deadline !== undefined && now > task.deadline;
}

export interface FailurePolicy {
  /** False: dead-letter at once. */
  retry: boolean;
  maxAttempts: number;
  backoff: BackoffOptions;
  now: number;
}

/**
 * Records a failed attempt: the next attempt goes to the delayed set with backoff, or, at
 * maxAttempts or without retry, the task goes to the dead-letter stream with its error history.
 * `lost` when the caller no longer owns the delivery (the transport refuses to act for it).
 */
export async function settleFailure(
  queue: TaskQueue,
  entryId: string,
  task: Task,
  error: unknown,
  policy: FailurePolicy,
): Promise<FailResult> {
  const errors = [...task.errors, attemptError(task.attempt, error, policy.now)];
  if (!policy.retry || task.attempt >= policy.maxAttempts) {
    const reason = policy.retry
      ? `failed ${task.attempt} of ${policy.maxAttempts} attempts: ${errorMessage(error)}`
      : `failed without retry: ${errorMessage(error)}`;
    const dead = encodeDeadLetter(
      task.type,
      reason.slice(0, MAX_ERROR_MESSAGE),
      errors,
      encodeTask(task),
      policy.now,
    );
    return (await queue.deadLetter(entryId, dead)) ? { outcome: 'dead', reason } : { outcome: 'lost' };
  }
  const delayMs = backoffDelay(task.attempt, policy.backoff);
  const next: Fields = encodeTask({ ...task, attempt: task.attempt + 1, errors });
  if (!(await queue.retry(entryId, next, delayMs))) return { outcome: 'lost' };
  return { outcome: 'retry', delayMs, attempt: task.attempt + 1 };
}

/**
 * The task an entry holds, or undefined when a foreign client wrote an entry we cannot read: that
 * one is parked in the dead-letter stream with the reason, and the caller carries on.
 */
export function taskOrBury(
  queue: TaskQueue,
  swarm: string,
  type: string,
  entry: RawEntry,
  now: number,
  log: Logger,
  /** Collects the burial's write, for a caller that must wait for it (a claim closing its queue). */
  burials?: Promise<unknown>[],
): Task | undefined {
  try {
    return decodeTask(swarm, type, entry.fields, entry.deliveries);
  } catch (error) {
    const reason = `malformed entry: ${errorMessage(error)}`;
    log.warn({ entryId: entry.id, reason }, 'dead-lettering malformed task entry');
    // If this write fails the entry stays pending, and its lease expiry brings it back.
    const burial = queue
      .deadLetter(entry.id, encodeDeadLetter(type, reason, [], entry.fields, now))
      .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'could not dead-letter entry'));
    burials?.push(burial);
    return undefined;
  }
}
