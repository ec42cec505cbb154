import { Redis } from 'ioredis';

/** The same key/value operations on Redis (ioredis) and on SQLite (better-sqlite3, WAL). */
export interface KvStore {
  readonly name: 'redis' | 'sqlite';
  /** SQLite answers synchronously; only Redis returns promises. */
  set(key: string, value: Buffer): undefined | Promise<unknown>;
  get(key: string): Buffer | null | undefined | Promise<Buffer | null>;
  close(): Promise<void>;
}

export const SQLITE_SYNC_MODES = ['off', 'normal', 'full'] as const;

export const REDIS_CLIENTS = ['swarm', 'plain'] as const;

/**
 * ioredis, RESP2. 'plain': ioredis defaults. 'swarm': the options of RedisBus's command
 * connection (auto-pipelining on). Seen here: auto-pipelining costs small one-at-a-time commands
 * CPU and latency (fewer ops/s when several processes share two cores), while without it an
 * 800 KB SET is at times ~3 ms instead of ~0.3 ms, spent in ioredis copying the argument into a
 * freshly allocated buffer.
 */
export function redisStore(url: string, client: string): KvStore {
  if (!(REDIS_CLIENTS as readonly string[]).includes(client))
    throw new Error(`redis client must be one of ${REDIS_CLIENTS.join(', ')}, got ${client}`);
  const redis = new Redis(url, { protocol: 2, enableAutoPipelining: client === 'swarm' });
  return {
    name: 'redis',
    set: (key, value) => redis.set(key, value),
    get: (key) => redis.getBuffer(key),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Opens (creating if needed) kv(key TEXT PRIMARY KEY, value BLOB) in WAL mode. better-sqlite3 is
 * an optional dependency (its native build needs Node's headers), so it is loaded only here.
 */
export async function sqliteStore(path: string, synchronous: string): Promise<KvStore> {
  if (!(SQLITE_SYNC_MODES as readonly string[]).includes(synchronous))
    throw new Error(`synchronous must be one of ${SQLITE_SYNC_MODES.join(', ')}, got ${synchronous}`);
  // Writers from several processes queue on SQLite's lock; wait rather than fail with SQLITE_BUSY.
  let db: import('better-sqlite3').Database;
  try {
    const { default: Database } = await import('better-sqlite3');
    db = new Database(path, { timeout: 60_000 });
  } catch (error) {
    throw new Error(
      'better-sqlite3 is not installed or its native module did not build; with Node headers at ' +
        `/usr/include/node, run: npm_config_nodedir=/usr pnpm rebuild better-sqlite3 (${String(error).split('\n')[0]})`,
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB)');
  const put = db.prepare<[string, Buffer]>('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
  const select = db.prepare<[string], { value: Buffer }>('SELECT value FROM kv WHERE key = ?');
  return {
    name: 'sqlite',
    set: (key, value) => {
      put.run(key, value);
      return undefined;
    },
    get: (key) => select.get(key)?.value,
    async close() {
      db.close();
    },
  };
}

export type Workload = 'set' | 'get' | 'mixed';

/** ops sequential small operations; returns elapsed ms. Keys cycle through `keys` names. */
export async function runWorkload(
  store: KvStore,
  workload: Workload,
  options: { ops: number; keys: number; prefix: string; offset: number; value: Buffer },
): Promise<number> {
  const { ops, keys, prefix, offset, value } = options;
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const key = `${prefix}:k${(offset + i) % keys}`;
    const write = workload === 'set' || (workload === 'mixed' && i % 2 === 0);
    const pending = write ? store.set(key, value) : store.get(key);
    if (pending instanceof Promise) await pending;
  }
  return performance.now() - start;
}
