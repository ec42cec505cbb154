import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits for `done`, failing loudly instead of hanging: throws when `progress()` has not
 * moved for stallMs, or when `dead()` reports a reason (a worker that exited, say).
 */
export async function awaitProgress(
  done: Promise<void>,
  options: {
    progress: () => number;
    total: number;
    what: string;
    stallMs?: number;
    dead?: () => string | undefined;
    log?: (message: string) => void;
  },
): Promise<void> {
  const stallMs = options.stallMs ?? 60_000;
  let finished = false;
  let failure: unknown;
  done.then(
    () => {
      finished = true;
    },
    (error: unknown) => {
      failure = error ?? new Error('failed');
    },
  );
  let last = options.progress();
  let lastMoved = Date.now();
  let lastLogged = Date.now();
  while (!finished) {
    if (failure !== undefined) throw failure;
    await Promise.race([done.catch(() => {}), sleep(250)]);
    if (finished) break;
    const now = options.progress();
    if (now !== last) {
      last = now;
      lastMoved = Date.now();
    }
    const reason = options.dead?.();
    if (reason) throw new Error(`${options.what}: ${reason} at ${now} of ${options.total}`);
    if (Date.now() - lastMoved > stallMs)
      throw new Error(`${options.what}: no progress for ${stallMs} ms, stuck at ${now} of ${options.total}`);
    if (options.log && Date.now() - lastLogged >= 5_000) {
      lastLogged = Date.now();
      options.log(`${options.what}: ${now} of ${options.total}`);
    }
  }
}
