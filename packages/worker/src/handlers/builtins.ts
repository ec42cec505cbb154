import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '@swarm/core';
import type { Handler } from '../types';

export type BuiltinName = 'redis_health_check' | 'echo' | 'sleep';

const DEFAULT_SLEEP_MS = 100;

/** Handlers that ship with swarm. */
export function builtinHandler(name: string, bus: Bus): Handler {
  switch (name) {
    case 'redis_health_check':
      return redisHealthCheck(bus);
    case 'echo':
      return ({ task }) => ({
        summary: task.description || JSON.stringify(task.data),
        data: task.data,
      });
    case 'sleep':
      return async ({ task, signal }) => {
        const data = task.data;
        const requested =
          data !== null && typeof data === 'object' && !Array.isArray(data) ? data.ms : undefined;
        const ms =
          typeof requested === 'number' && Number.isFinite(requested) && requested >= 0
            ? requested
            : DEFAULT_SLEEP_MS;
        await sleep(ms, undefined, { signal });
        return { summary: `slept ${ms} ms` };
      };
    default:
      throw new Error(`unknown builtin handler "${name}": use redis_health_check, echo or sleep`);
  }
}

interface Pingable {
  ping(): Promise<string>;
}

/** The bus's raw Redis connection, when it has one (RedisBus gives it as `redis()`). */
function redisOf(bus: Bus): (() => Promise<Pingable>) | undefined {
  const redis = (bus as { redis?: unknown }).redis;
  return typeof redis === 'function' ? (redis.bind(bus) as () => Promise<Pingable>) : undefined;
}

function redisHealthCheck(bus: Bus): Handler {
  return async () => {
    const redis = redisOf(bus);
    if (!redis)
      throw new Error('redis_health_check needs a Redis transport: this swarm runs on the in-process bus');
    const client = await redis();
    const started = performance.now();
    const reply = await client.ping();
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    return { summary: `Redis ping successful: ${reply}`, data: { reply, latencyMs } };
  };
}
