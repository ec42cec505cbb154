import { type Bus, MemoryBus, parseRedisUrl, RedisBus, redactUrl } from '@swarm/core';
import type { Output } from './output';

export interface Connection {
  bus: Bus;
  /** The Redis URL, or undefined for the embedded transport. */
  url: string | undefined;
}

/** --redis wins, then $SWARM_REDIS_URL, then the topology's transport; none means embedded. */
export function redisUrlOf(flag: string | undefined, topologyUrl?: string): string | undefined {
  const url = flag ?? process.env.SWARM_REDIS_URL ?? topologyUrl;
  return url ? url : undefined;
}

export function connect(url: string | undefined, out: Output, options: { embeddedOk: boolean }): Connection {
  if (url) {
    parseRedisUrl(url);
    out.note(`transport: redis ${redactUrl(url)}`);
    return { bus: new RedisBus({ url }), url };
  }
  if (!options.embeddedOk) return { bus: new MemoryBus(), url: undefined };
  out.note(
    'transport: embedded, in-process (no --redis and no SWARM_REDIS_URL): nothing outlives this process',
  );
  return { bus: new MemoryBus(), url: undefined };
}
