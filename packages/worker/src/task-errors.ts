import { SwarmError } from '@swarm/core';

/**
 * Thrown by a handler that cannot run its task yet (a budget's holds or a rate limit in the way):
 * the task goes back, not failed, and comes again after `delayMs` at the same attempt.
 */
export class TaskDeferredError extends SwarmError<'SWARM_TASK_DEFERRED'> {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super('SWARM_TASK_DEFERRED', reason);
  }
}

/**
 * Thrown by a handler whose task no retry can help (a spent budget, a request the vendor will
 * always refuse): the task is dead-lettered at once, with this message.
 */
export class UnretryableError extends SwarmError<'SWARM_TASK_UNRETRYABLE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SWARM_TASK_UNRETRYABLE', message, options);
  }
}

// Recognised by code, not class: a handler module may bring its own copy of @swarm/worker (the
// bundled CLI has one), and its classes are not ours.
const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

export function isDeferral(error: unknown): error is TaskDeferredError {
  const delayMs = (error as { delayMs?: unknown } | null)?.delayMs;
  return codeOf(error) === 'SWARM_TASK_DEFERRED' && typeof delayMs === 'number' && delayMs >= 0;
}

export function isUnretryable(error: unknown): boolean {
  return codeOf(error) === 'SWARM_TASK_UNRETRYABLE';
}
