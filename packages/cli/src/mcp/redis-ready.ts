import type { RedisBus } from '@swarm/core';
import { RedisUnavailableError } from './errors';

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
