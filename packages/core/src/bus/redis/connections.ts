import { Redis, type RedisOptions } from 'ioredis';

export interface ConnectionOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Extra ioredis options (TLS material, username, ...). */
  redis?: RedisOptions;
}

/**
 * The shared command connection. Commands wait through reconnects instead of failing after
 * a retry count, so a finding computed during a Redis restart is written once Redis is back.
 */
export function createCommandConnection(options: ConnectionOptions): Redis {
  return new Redis(options.url, {
    // ioredis 6 defaults to RESP3, where raw `call()` replies flatten maps (XREADGROUP becomes
    // [key, entries] instead of [[key, entries]]). RESP2 keeps one reply shape everywhere.
    protocol: 2,
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
    connectionName: 'swarm',
    ...options.redis,
  });
}

/** A dedicated connection for one blocking reader: a blocked XREADGROUP must never stall other commands. */
export function createBlockingConnection(command: Redis, name: string): Redis {
  return command.duplicate({ enableAutoPipelining: false, connectionName: name, maxRetriesPerRequest: null });
}

/** Hides credentials before a URL reaches a log line or status output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
