import type { RedisOptions } from 'bullmq';

/**
 * BullMQ connection options for a redis:// URL. RESP2 (`protocol: 2`), because ioredis 6
 * defaults to RESP3 and BullMQ's raw replies assume RESP2; `maxRetriesPerRequest: null`
 * is what BullMQ requires of worker connections.
 */
export function bullmqConnection(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.slice(1) || '0');
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    db: Number.isSafeInteger(db) ? db : 0,
    protocol: 2,
    maxRetriesPerRequest: null,
  };
}
