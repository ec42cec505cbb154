import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Lua scripts live in scripts/*.lua, one per operation, like BullMQ's commands/.
 * A line `-- @include name.lua` pulls in a helper from scripts/includes/.
 */

const SCRIPTS = {
  complete: 2,
  deadLetter: 2,
  retry: 2,
  promote: 2,
  reclaim: 3,
  renew: 2,
  postIdempotent: 2,
  postBatch: 2,
  retryDeadLetter: 2,
  removeConsumer: 2,
  pruneConsumers: 2,
  publishFindings: 2,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const fileName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function load(name: string): string {
  const read = (path: string) => readFileSync(new URL(`./scripts/${path}`, import.meta.url), 'utf8');
  return read(`${fileName(name)}.lua`).replace(/^-- @include (\S+)$/gm, (_, include: string) =>
    read(`includes/${include}`),
  );
}

const sources = new Map<ScriptName, string>();

export type ScriptCaller = (name: ScriptName, keys: string[], args: (string | number)[]) => Promise<unknown>;

/** Registers every script on a connection (EVALSHA, with EVAL after a NOSCRIPT). */
export function defineScripts(redis: Redis): ScriptCaller {
  for (const [name, numberOfKeys] of Object.entries(SCRIPTS) as [ScriptName, number][]) {
    let lua = sources.get(name);
    if (lua === undefined) {
      lua = load(name);
      sources.set(name, lua);
    }
    redis.defineCommand(`swarm_${name}`, { numberOfKeys, lua });
  }
  const commands = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  return (name, keys, args) =>
    (commands[`swarm_${name}`] as (...a: (string | number)[]) => Promise<unknown>).call(
      redis,
      ...keys,
      ...args,
    );
}
