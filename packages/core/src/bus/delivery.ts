import type { AttemptError, CompleteResult, FailResult, FindingInput, ModelCall, Task } from '../messages';

/** One task handed to one consumer, until it is completed, failed, or its lease is lost. */
export interface Delivery {
  readonly task: Task;
  /** Stream entry id of this delivery. */
  readonly deliveryId: string;
  readonly attempt: number;
  readonly consumer: string;
  /** Aborted when the lease is lost (another consumer reclaimed the task). */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once if the lease is lost (at once if it already was); returns a remover.
   * Cheaper than `signal` for code that only needs to hear of it: no AbortController is made.
   * A lost delivery still holds its slot until `complete` or `fail` is called (they answer
   * `duplicate` / `lost`).
   */
  onLost(listener: () => void): () => void;
  /** Records the finding; exactly one completion of a task wins, later ones are told `duplicate`. */
  complete(finding: FindingInput): Promise<CompleteResult>;
  /** Retries with backoff, or dead-letters once maxAttempts is reached or `retry: false`. */
  fail(error: unknown, options?: { retry?: boolean }): Promise<FailResult>;
  /**
   * Puts the task back, not failed: it comes again after `delayMs`, at the same attempt, with no
   * error recorded (a budget's holds or a rate limit in the way). False when the lease was lost.
   */
  defer(delayMs: number): Promise<boolean>;
  /** Renews the lease now (the consumer also renews every live delivery on its own). */
  extend(): Promise<boolean>;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return `non-Error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-Error thrown: ${String(error)}`;
  }
}

export const MAX_ERROR_MESSAGE = 2_000;

/** Most model calls one attempt's error keeps (a long fallback list is still counted in the ledger). */
const MAX_ATTEMPT_CALLS = 32;

/**
 * The error history's entry for a failed attempt. An error that carries `calls` (a model worker's:
 * what the attempt's model calls cost) keeps them, so the task's finding can count every call.
 */
export function attemptError(attempt: number, error: unknown, at: number): AttemptError {
  const entry: AttemptError = { attempt, message: errorMessage(error).slice(0, MAX_ERROR_MESSAGE), at };
  const calls = (error as { calls?: unknown } | null)?.calls;
  if (Array.isArray(calls) && calls.length > 0)
    entry.calls = calls.slice(0, MAX_ATTEMPT_CALLS) as ModelCall[];
  return entry;
}
