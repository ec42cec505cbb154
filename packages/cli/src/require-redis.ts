import { type Bus, parseRedisUrl, RedisBus, type RedisBusOptions, redactUrl } from '@swarm/core';
import pino from 'pino';
import type { CommandInput } from './command';
import { redisUrlOf } from './connect';
import { UsageError } from './errors';

/** A Redis the CLI cannot reach: one line naming it (credentials hidden), exit 1. */
export class RedisUnreachableError extends Error {
  readonly code = 'SWARM_REDIS_UNREACHABLE';
}

export function cliLogger() {
  return pino({ level: process.env.SWARM_LOG_LEVEL ?? 'error' }, pino.destination(2));
}

/** Verbs that talk to a swarm in other processes need Redis: the embedded transport lives in one process. */
export function redisBus(
  input: CommandInput,
  verb: string,
  lifetime: 'one-shot' | 'long-running' = 'one-shot',
  busOptions: Pick<RedisBusOptions, 'retention' | 'events'> = {},
): RedisBus {
  const url = redisUrlOf(input.redis);
  if (!url) throw new UsageError(`swarm ${verb} needs a Redis: pass --redis <url> or set SWARM_REDIS_URL`);
  parseRedisUrl(url);
  input.out.note(`transport: redis ${redactUrl(url)}`);
  return new RedisBus({
    ...busOptions,
    url,
    logger: cliLogger(),
    // A one-shot command should say Redis is unreachable, not wait for it; a long-running one
    // (a worker, a follower) waits through a Redis restart like any consumer. Nor does it wait for
    // a Redis still loading its data (ioredis's ready check, an INFO on each connection, costs
    // `swarm worker --once` 10-15 ms): its commands fail with Redis's LOADING error instead.
    ...(lifetime === 'one-shot'
      ? {
          redis: {
            enableReadyCheck: false,
            maxRetriesPerRequest: 2,
            retryStrategy: (n: number) => (n > 2 ? null : 100),
          },
        }
      : {}),
  });
}

export async function withBus<T>(bus: RedisBus, work: (bus: Bus) => Promise<T>): Promise<T> {
  let lastError = '';
  bus.connection.onError((error: Error) => {
    lastError = error.message;
  });
  try {
    await assertReachable(bus, () => lastError);
    return await work(bus);
  } finally {
    await bus.close();
  }
}

/**
 * One PING, bounded: a bus that would wait for Redis for ever (a long-running one) must still
 * say at start that Redis is not there, or refuses its password.
 */
export async function assertReachable(
  bus: RedisBus,
  lastError?: () => string,
  limitMs = 5_000,
): Promise<void> {
  let seen = '';
  const onError = (error: Error) => {
    seen = error.message;
  };
  const offError = bus.connection.onError(onError);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      // The first answer also says whether it is a cluster: until then there is no client to ping.
      bus.redis().then((redis) => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), limitMs);
      }),
    ]);
  } catch (error) {
    const why = lastError?.() || seen || (error instanceof Error ? error.message : String(error));
    throw new RedisUnreachableError(`cannot reach Redis at ${urlOf(bus)}${why ? `: ${why}` : ''}`);
  } finally {
    clearTimeout(timer);
    offError();
  }
}

/** Hosts and ports only: the password never reaches a message. */
function urlOf(bus: RedisBus): string {
  return `${bus.connection.target.tls ? 'rediss' : 'redis'}://${bus.connection.where}`;
}
