/**
 * The least-privilege Redis ACL rules for one swarm, per role: the source of truth behind
 * `swarm acl` and the access fault test (test/faults/access.test.ts). Each command set is what
 * that role's verbs were seen to send (INFO commandstats after running only them, top level and
 * inside the Lua scripts), and each role may write only the keys its work writes: `%R~` grants
 * reading only (Redis 7; the line needs Redis 7 or newer).
 *
 * Notes on single commands:
 * - `info` serves ioredis's ready check (a long-running process waits for a loading Redis with it);
 * - `client|unblock` wakes a consumer's blocked read when it stops (else a stop waits out one
 *   blocking read); it is @admin, and lets the user unblock any client, not only its own;
 * - `eval` and `evalsha`: every script runs with the user's rights, command by command;
 * - `scan` lists key names, and Redis does not filter SCAN by key pattern: such a user still
 *   learns the names of other swarms (`swarm status` with no swarm lists them);
 * - `psubscribe` serves `follow` with a pattern, but Redis compares a subscribed pattern with the
 *   channel rules literally, so it is refused and follow finds swarms by SCAN instead;
 * - `wait` serves a durable swarm (durability.replicas > 0): every write is followed by WAIT.
 */

export const ROLES = ['worker', 'poster', 'reader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const CONNECTION = ['ping', 'info', 'client|setname', 'client|id', 'eval', 'evalsha'];

/** `swarm status`, `findings` (also --follow, and a durable --subscriber), `dlq list`, `cost`, `context get`. */
const READ = [
  'scan',
  'xrange',
  'xrevrange',
  'xlen',
  'xpending',
  'xinfo|groups',
  'xinfo|consumers',
  'zcard',
  'hget',
  'hgetall',
  'get',
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
];

/** `swarm post` (with an idempotency key) and `context put`. */
const POST = ['xadd', 'set', 'hset', 'hincrby', 'wait'];

/** `swarm worker`, `claim`, `report`, `renew`, `fail`: consume, settle, retry, dead-letter, reclaim. */
const WORK = [
  'client|unblock',
  'time',
  'xadd',
  'xreadgroup',
  'xack',
  'xclaim',
  'xdel',
  'xtrim',
  'xgroup|create',
  'xgroup|delconsumer',
  'xinfo|groups',
  'xinfo|consumers',
  'xpending',
  'xrange',
  'xrevrange',
  'hset',
  'hget',
  'hgetall',
  'hmget',
  'hdel',
  'hincrby',
  'hincrbyfloat',
  'zadd',
  'zrange',
  'zrem',
  'set',
  'get',
  'publish',
  'subscribe',
  'unsubscribe',
  'wait',
];

const COMMANDS: Record<Role, readonly string[]> = {
  reader: [...CONNECTION, ...READ, 'hset', 'wait'],
  poster: [...CONNECTION, ...READ, ...POST],
  worker: [...CONNECTION, ...WORK],
  admin: [...CONNECTION, ...READ, ...POST, ...WORK],
};

/** Keys of swarm S (suffixes of `swarm:{S}:`) each role writes; it may read all of them. */
const WRITES: Record<Exclude<Role, 'admin'>, readonly string[]> = {
  // Findings and the durable mark are read through scripts (read-findings.lua), and Redis checks
  // a script's KEYS as written: without a write command on them (a reader has no XADD) that
  // grants nothing more. A durable subscriber writes its cursor.
  reader: ['findings', 'durable', 'cursors'],
  // With XADD for its tasks, a poster could also append findings: the one write it has beyond its own.
  poster: ['tasks:*', 'idem:*', 'ctx:*', 'once:*', 'counters', 'findings', 'durable'],
  worker: [
    'tasks:*',
    'delayed:*',
    'leases:*',
    'findings',
    'dead',
    'errors',
    'retention',
    'once:*',
    'counters',
    'durable',
    'ledger:*',
    // A pool declares its topology's `partitions` as it starts.
    'partitions',
  ],
};

/** The rules after `ACL SETUSER <user>`, the password as given (`>secret`, `#<sha256>` or a placeholder). */
export function aclRules(swarm: string, role: Role, password: string): string[] {
  // A partitioned task type's partitions p ≥ 1 carry the tag `{S#p}` (docs/SCALING.md).
  const prefixes = [`swarm:{${swarm}}:`, `swarm:{${swarm}#*}:`];
  const keys = prefixes.flatMap((prefix) =>
    role === 'admin'
      ? [`~${prefix}*`]
      : [`%R~${prefix}*`, ...WRITES[role].map((suffix) => `~${prefix}${suffix}`)],
  );
  return [
    'reset',
    'on',
    password,
    ...keys,
    ...prefixes.map((prefix) => `&${prefix}*`),
    ...[...new Set(COMMANDS[role])].map((c) => `+${c}`),
  ];
}

/** One argument as redis-cli reads it: quoted when it holds a space, a quote or a backslash. */
export function redisCliArg(arg: string): string {
  return /[\s"'\\]/.test(arg) ? `"${arg.replace(/["\\]/g, (c) => `\\${c}`)}"` : arg;
}
