import type { RedisBus } from '@swarm/core';
import { RedisUnavailableError } from './errors';

/**
 * A tool call waits for Redis to come back (a restart) for at most `limitMs`, before sending
 * anything: a command queued on a dead connection would run minutes later, after the agent was
 * told the call failed.
 */
export function redisReadiness(
  redis: RedisBus['redis'],
  where: string,
  limitMs = 10_000,
): () => Promise<void> {
  return () => {
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
