import { InvalidNameError } from './errors';

/**
 * Every Redis key and channel name, in one place. Each swarm's keys share the hash tag
 * `{<swarm>}`, so every Lua script touches one Redis Cluster slot.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertName(kind: 'swarm' | 'task type' | 'consumer', value: string): void {
  if (typeof value !== 'string' || !NAME.test(value)) throw new InvalidNameError(kind, String(value));
}

export const CONSUMER_GROUP = 'workers';

/** Most partitions a task type may have: partition names stay short, and a worker's connections few. */
export const MAX_PARTITIONS = 256;

/**
 * The swarm name a partition's keys carry (docs/SCALING.md): partition 0 is the swarm itself, so
 * an unpartitioned swarm's keys never change; partition p ≥ 1 is `S#p`, a tag of its own and so a
 * slot of its own. Names cannot contain `#`, so `S#p` is never another swarm's name.
 */
export function partitionName(swarm: string, partition: number): string {
  return partition === 0 ? swarm : `${swarm}#${partition}`;
}

/** The swarm and partition a (possibly partition) name stands for. */
export function partitionOf(name: string): { swarm: string; partition: number } {
  const at = name.indexOf('#');
  if (at < 0) return { swarm: name, partition: 0 };
  return { swarm: name.slice(0, at), partition: Number(name.slice(at + 1)) };
}

export const keys = {
  tasks: (swarm: string, type: string) => `swarm:{${swarm}}:tasks:${type}`,
  delayed: (swarm: string, type: string) => `swarm:{${swarm}}:delayed:${type}`,
  /** The ledger (budgets and rate limits): what each holder holds, when holds lapse, spend, GCRA state. */
  ledgerHolds: (swarm: string) => `swarm:{${swarm}}:ledger:holds`,
  ledgerExpiries: (swarm: string) => `swarm:{${swarm}}:ledger:expiries`,
  ledgerBudgets: (swarm: string) => `swarm:{${swarm}}:ledger:budgets`,
  ledgerRates: (swarm: string) => `swarm:{${swarm}}:ledger:rates`,
  /** Hash: consumer name → its lease in ms; a reclaimer holds each owner's deliveries to it. */
  leases: (swarm: string, type: string) => `swarm:{${swarm}}:leases:${type}`,
  findings: (swarm: string) => `swarm:{${swarm}}:findings`,
  deadLetters: (swarm: string) => `swarm:{${swarm}}:dead`,
  /** Hash: `findings` / `dead` → the bound swarm's workers trim with, `MAXLEN <n>` or `MAXAGE <ms>`. */
  retention: (swarm: string) => `swarm:{${swarm}}:retention`,
  idempotency: (swarm: string, key: string) => `swarm:{${swarm}}:idem:${key}`,
  context: (swarm: string, ref: string) => `swarm:{${swarm}}:ctx:${ref}`,
  shards: (swarm: string) => `swarm:{${swarm}}:shards`,
  /** Hash: consumer → what keeps failing for it (JSON), written at most once a minute; status shows it. */
  errors: (swarm: string) => `swarm:{${swarm}}:errors`,
  /** A write's one-time token: a resend of the same call (after a lost reply) does nothing. */
  once: (swarm: string, token: string) => `swarm:{${swarm}}:once:${token}`,
  /**
   * Hash of a durable swarm (durability.replicas > 0): `mark`, the newest finding id its replicas
   * are known to hold (readers see no further), and the swarm's `replicas` and `timeoutMs`.
   */
  durable: (swarm: string) => `swarm:{${swarm}}:durable`,
  /**
   * Hash: `<type>:<event>` → how many tasks of that type met the event, ever, counted by the
   * scripts where it happens (posted, completed, failed, dead, reclaimed; costUsd a float sum).
   * Every process's work shows in it; metrics read it when scraped. Named from a task stream's
   * key inside the scripts (counters.lua), so it is never one of their KEYS.
   */
  counters: (swarm: string) => `swarm:{${swarm}}:counters`,
  /** Hash: durable subscriber name → id of the last finding of this swarm it has taken. */
  cursors: (swarm: string) => `swarm:{${swarm}}:cursors`,
  /**
   * Hash on the plain tag: task type → its number of partitions (absent: 1). The one source of
   * truth for posters, workers and readers; a worker pool writes its topology's `partitions`.
   */
  partitions: (swarm: string) => `swarm:{${swarm}}:partitions`,
  /**
   * SCAN pattern for every key of every swarm, and how to read the swarm back out of a key: a
   * partition's `{S#p}` is swarm S.
   */
  anySwarm: 'swarm:{*}:*',
  swarmOf: (key: string) => /^swarm:\{([^}#]+)(?:#\d+)?\}:/.exec(key)?.[1],
  /** SCAN pattern for every task stream of a swarm. */
  taskStreams: (swarm: string) => `swarm:{${swarm}}:tasks:*`,
  /** Pub/sub channel: one message per finding, the finding as JSON. */
  findingsChannel: (swarm: string) => `swarm:{${swarm}}:findings`,
};
