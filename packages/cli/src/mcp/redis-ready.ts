import type { RedisBus } from '@swarm/core';
import { RedisLostDuringCallError, RedisUnavailableError } from './errors';

/**
 * A tool call waits for Redis to come back (a restart) for at most `limitMs`, before sending
 * anything: a command queued on a dead connection would run minutes later, after the agent was
 * told the call failed.
 */
export function redisReadiness(bus: RedisBus, where: string, limitMs = 10_000): () => Promise<void> {
  return () => {
    const redis = bus.connection.current;
    if (redis === undefined)
      return withLimit(
        bus.redis().then(() => {}),
        () => new RedisUnavailableError(where, limitMs),
        limitMs,
      );
    if (redis.status === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new RedisUnavailableError(where, limitMs));
      }, limitMs);
      redis.once('ready', onReady);
    });
  };
}

/** Rejects with `error()` when `work` takes longer than `limitMs`. */
function withLimit(work: Promise<void>, error: () => Error, limitMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(error()), limitMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** How often a call in flight looks at its connection. */
const OUTAGE_CHECK_MS = 250;

/**
 * Watches a call in flight: Redis that goes away during it (the readiness check just before can
 * see a connection whose end is not yet noticed) leaves its commands queued until Redis returns,
 * which would hold the call, and the agent, for as long. `lost` rejects once the connection has
 * been down for `limitMs`: a read-only call did nothing; another may yet be carried out.
 */
export function redisOutage(
  bus: RedisBus,
  where: string,
  limitMs = 10_000,
): (readOnly: boolean) => { lost: Promise<never>; stop(): void } {
  return (readOnly) => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const lost = new Promise<never>((_, reject) => {
      let downSince: number | undefined;
      timer = setInterval(() => {
        const status = bus.connection.current?.status;
        if (status === undefined || status === 'ready') {
          downSince = undefined;
          return;
        }
        downSince ??= Date.now();
        if (Date.now() - downSince < limitMs) return;
        clearInterval(timer);
        reject(
          readOnly ? new RedisUnavailableError(where, limitMs) : new RedisLostDuringCallError(where, limitMs),
        );
      }, OUTAGE_CHECK_MS);
    });
    lost.catch(() => {});
    return { lost, stop: () => clearInterval(timer) };
  };
}
