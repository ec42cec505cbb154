import { readFileSync } from 'node:fs';
import type { RedisClient } from './connections';

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
  ledgerReserve: 4,
  ledgerSettle: 4,
  ledgerRelease: 4,
  ledgerCoolDown: 1,
  readFindings: 2,
  markDurable: 1,
  durableProbe: 2,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const fileName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const sources = new Map<ScriptName, string>();

/** A script's text as Redis runs it: each `-- @include` line replaced by that include's text. */
function sourceOf(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    const read = (path: string) => readFileSync(new URL(`./scripts/${path}`, import.meta.url), 'utf8');
    lua = read(`${fileName(name)}.lua`).replace(/^-- @include (\S+)$/gm, (_, include: string) =>
      read(`includes/${include}`),
    );
    sources.set(name, lua);
  }
  return lua;
}

export interface ProtocolScript {
  /** File name of its source, as docs/PROTOCOL.md names it: `complete.lua`. */
  file: string;
  numberOfKeys: number;
  /** The text swarm registers (its SHA1 is what swarm calls with EVALSHA). */
  lua: string;
}

/** Every script as swarm loads it, for clients in other languages (`swarm protocol scripts`). */
export function protocolScripts(): ProtocolScript[] {
  return (Object.entries(SCRIPTS) as [ScriptName, number][]).map(([name, numberOfKeys]) => ({
    file: `${fileName(name)}.lua`,
    numberOfKeys,
    lua: sourceOf(name),
  }));
}

export type ScriptCaller = (name: ScriptName, keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * Registers every script on the command connection once it is open (EVALSHA, with EVAL after a
 * NOSCRIPT: on a cluster, per node).
 */
export function defineScripts(client: Promise<RedisClient>): ScriptCaller {
  const defined = client.then((redis) => {
    for (const [name, numberOfKeys] of Object.entries(SCRIPTS) as [ScriptName, number][])
      redis.defineCommand(`swarm_${name}`, { numberOfKeys, lua: sourceOf(name) });
    return redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  });
  return async (name, keys, args) => {
    const commands = await defined;
    return (commands[`swarm_${name}`] as (...a: (string | number)[]) => Promise<unknown>).call(
      commands,
      ...keys,
      ...args,
    );
  };
}
