export interface BackoffOptions {
  /** Delay before the second attempt, in ms. */
  baseMs: number;
  /** Upper bound for any delay, in ms. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1_000, maxMs: 60_000 };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is kept, half is random,
 * so retries spread out but never come back sooner than half the nominal delay.
 */
export function backoffDelay(failedAttempt: number, options: BackoffOptions, random = Math.random): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
