import { SwarmError } from '../../errors';

/** A Redis URL swarm cannot read: says which part is wrong, never the password. */
export class InvalidRedisUrlError extends SwarmError {
  constructor(url: string, why: string) {
    super('SWARM_INVALID_REDIS_URL', `invalid Redis URL ${redactUrl(url)}: ${why}`);
  }
}

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisTarget {
  /** Every host:port the URL names: one for a single Redis, one or more seeds for a cluster. */
  nodes: RedisNode[];
  /** true or false when the URL says (`?cluster=`), or when it names several nodes (true). */
  cluster: boolean | undefined;
  username?: string;
  password?: string;
  tls: boolean;
  db?: number;
  /** The URL as ioredis reads it for a single node: the first node, without swarm's own parameters. */
  singleUrl: string;
}

const URL_SHAPE = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;

/**
 * Reads `redis://[user:password@]host:port[,host:port...][/db][?cluster=true|false]`. Several
 * nodes are seeds of one Redis Cluster; `cluster=false` insists on a single node (a proxy that
 * answers for a cluster, say), `cluster=true` skips asking the node what it is.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const match = URL_SHAPE.exec(url.trim());
  if (!match) {
    // `http://host:6379` (a habit from HTTP services) deserves more than "expected redis://".
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url.trim())?.[1];
    throw new InvalidRedisUrlError(
      url,
      scheme && !/^rediss?$/.test(scheme)
        ? `${scheme}:// is not a Redis scheme: use redis://host:port (or rediss:// for TLS)`
        : 'expected redis://[user:password@]host:port[,host:port...] (or rediss:// for TLS)',
    );
  }
  const [, scheme, credentials, hosts = '', path = '', query = ''] = match;
  const nodes = hosts.split(',').map((hostPort) => nodeOf(url, hostPort));
  const params = new URLSearchParams(query);
  let cluster: boolean | undefined;
  const flag = params.get('cluster');
  if (flag !== null) {
    if (flag !== 'true' && flag !== 'false')
      throw new InvalidRedisUrlError(url, `?cluster= takes true or false, got "${flag}"`);
    cluster = flag === 'true';
    params.delete('cluster');
  }
  if (nodes.length > 1) {
    if (cluster === false)
      throw new InvalidRedisUrlError(
        url,
        'several nodes are seeds of a cluster, but ?cluster=false was given',
      );
    cluster = true;
  }
  const [user, password] = splitCredentials(credentials);
  const db = path.length > 1 ? Number(path.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    throw new InvalidRedisUrlError(
      url,
      `the database after the last / must be a number, got "${path.slice(1)}"`,
    );
  if (cluster && db) throw new InvalidRedisUrlError(url, 'a Redis Cluster has database 0 only');
  const rest = params.toString();
  const first = nodes[0] as RedisNode;
  const auth = credentials === undefined ? '' : `${credentials}@`;
  return {
    nodes,
    cluster,
    ...(user ? { username: user } : {}),
    ...(password ? { password } : {}),
    tls: scheme === 'rediss',
    ...(db !== undefined ? { db } : {}),
    singleUrl: `${scheme}://${auth}${hostText(first)}:${first.port}${path}${rest ? `?${rest}` : ''}`,
  };
}

function nodeOf(url: string, hostPort: string): RedisNode {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(hostPort);
  const found = bracketed ?? plain;
  if (!found) throw new InvalidRedisUrlError(url, `cannot read host:port "${hostPort}"`);
  const port = found[2] === undefined ? 6379 : Number(found[2]);
  if (port < 1 || port > 65_535)
    throw new InvalidRedisUrlError(url, `port ${port} of "${hostPort}" is out of range`);
  return { host: found[1] as string, port };
}

const hostText = (node: RedisNode) => (node.host.includes(':') ? `[${node.host}]` : node.host);

function splitCredentials(credentials: string | undefined): [string | undefined, string | undefined] {
  if (credentials === undefined) return [undefined, undefined];
  const colon = credentials.indexOf(':');
  const decode = (s: string) => (s ? decodeURIComponent(s) : undefined);
  // As ioredis reads it: `user@` is a user without a password.
  if (colon < 0) return [decode(credentials), undefined];
  return [decode(credentials.slice(0, colon)), decode(credentials.slice(colon + 1))];
}

/** Hides credentials before a URL reaches a log line or status output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, (auth) =>
      auth.includes(':') ? `//${auth.slice(2).split(':')[0]}:***@` : '//***@',
    );
  }
}
