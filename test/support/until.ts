import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** How long to wait before failing; 10 s unless given. */
  limitMs?: number;
  /** How often to ask; 20 ms unless given. */
  everyMs?: number;
}

/**
 * Polls until the condition holds and returns how long that took; fails naming `what` after the
 * limit. Tests assert that a state is reached, never how fast: pass a limit that is generous.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = 'a condition',
  limit: number | UntilOptions = {},
): Promise<number> {
  const { limitMs = 10_000, everyMs = 20 } = typeof limit === 'number' ? { limitMs: limit } : limit;
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs)
      throw new Error(
        `timed out after ${limitMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    await sleep(everyMs);
  }
  return Date.now() - started;
}
