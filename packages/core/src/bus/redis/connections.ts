import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisNode, type RedisTarget, redactUrl } from './redis-url';

export interface ConnectionOptions {
  /**
   * redis:// or rediss:// URL. Several `host:port`s (`redis://h1:7000,h2:7001`) are seeds of a
   * Redis Cluster; one node that says `cluster_enabled:1` is taken as a cluster too, unless the
   * URL ends in `?cluster=false`.
   */
  url: string;
  /** Extra ioredis options (TLS material, username, ...): for a cluster, each node's options. */
  redis?: RedisOptions;
}

/** A single Redis, or a Redis Cluster: both take the same commands. */
export type RedisClient = Redis | Cluster;

/** How long a command rides out a failover, a slot move or a cluster that is down: about 30 s. */
const CLUSTER_RETRY_DELAY_MS = 100;
const CLUSTER_REDIRECTIONS = 300;
/** Redis Cluster's fixed number of hash slots. */
const SLOTS = 16_384;

/**
 * The connections of one bus: the shared command connection, whether to a single Redis or a
 * cluster, and the dedicated ones a blocking reader or a subscriber needs, on the right node.
 * Which it is is known only once a node has answered `INFO cluster`, so the client is a promise.
 */
export class RedisConnection {
  readonly target: RedisTarget;
  /** Where, for messages: the nodes named, never a password. */
  readonly where: string;
  readonly #redis: Promise<RedisClient>;
  #current: RedisClient | undefined;
  #probe: Redis | undefined;
  #closed = false;
  readonly #listeners = new Set<(error: Error) => void>();

  constructor(private readonly options: ConnectionOptions) {
    this.target = parseRedisUrl(options.url);
    this.where = this.target.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    this.#redis = this.#open();
    // A failed open is reported to whoever uses the client, not as an unhandled rejection.
    this.#redis.catch(() => {});
  }

  /** The command connection, once it is known whether it is a cluster. */
  client(): Promise<RedisClient> {
    return this.#redis;
  }

  /** The command connection if it is open already. */
  get current(): RedisClient | undefined {
    return this.#current;
  }

  get isCluster(): boolean {
    return this.#current instanceof Cluster;
  }

  /** Connection errors, of the single node or of any cluster node. Returns the unsubscribe. */
  onError(listener: (error: Error) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emitError = (error: Error) => {
    for (const listener of this.#listeners) listener(error);
  };

  async #open(): Promise<RedisClient> {
    if (this.target.cluster === true) return this.#use(this.#cluster());
    const single = this.#single();
    if (this.target.cluster === false) return this.#use(single);
    this.#probe = single;
    let clusterEnabled = false;
    try {
      clusterEnabled = /^cluster_enabled:1\s*$/m.test(await single.info('cluster'));
    } catch {
      // Credentials without INFO, or a Redis a one-shot gave up on: a single node, and its own
      // commands report what is wrong. `?cluster=true` skips this question.
    }
    this.#probe = undefined;
    if (!clusterEnabled || this.#closed) return this.#use(single);
    single.disconnect();
    return this.#use(this.#cluster());
  }

  #use(client: RedisClient): RedisClient {
    this.#current = client;
    if (this.#closed) client.disconnect();
    return client;
  }

  #single(): Redis {
    const redis = new Redis(this.target.singleUrl, {
      // ioredis 6 defaults to RESP3, where raw `call()` replies flatten maps (XREADGROUP becomes
      // [key, entries] instead of [[key, entries]]). RESP2 keeps one reply shape everywhere.
      protocol: 2,
      enableAutoPipelining: true,
      // Commands wait through reconnects instead of failing after a retry count, so a finding
      // computed during a Redis restart is written once Redis is back.
      maxRetriesPerRequest: null,
      connectionName: 'swarm',
      ...this.options.redis,
    });
    redis.on('error', this.#emitError);
    return redis;
  }

  /** Each node's options, as a dedicated connection to one node needs them too. */
  #nodeOptions(): RedisOptions {
    const { username, password, tls } = this.target;
    return {
      protocol: 2,
      connectionName: 'swarm',
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
      ...this.options.redis,
    };
  }

  #cluster(): Cluster {
    const options: ClusterOptions = {
      // Auto-pipelined writes are not retried on ASK or TRYAGAIN (ioredis#2075): during a slot
      // move a post would fail. Each command alone is retried; our scripts batch on their own.
      enableAutoPipelining: false,
      // MOVED, ASK, TRYAGAIN, CLUSTERDOWN and a closed node connection (a failover) are retried
      // every 100 ms, about 30 s in all, before a command fails.
      maxRedirections: CLUSTER_REDIRECTIONS,
      retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
      retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
      retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
      slotsRefreshTimeout: 2_000,
      redisOptions: this.#nodeOptions(),
    };
    const cluster = new Cluster(this.target.nodes, options);
    cluster.on('error', this.#emitError);
    cluster.on('node error', (error: Error) => this.#emitError(error));
    return cluster;
  }

  /**
   * A dedicated connection for one blocking reader of `key`: a blocked XREADGROUP must never
   * stall other commands. On a cluster it is one connection to the primary that holds the key's
   * slot, and it does not reconnect: after a failover or a slot move the reader asks again.
   */
  async blocking(name: string, key: string): Promise<Redis> {
    const client = await this.client();
    if (client instanceof Redis) return this.#dedicated(client, name);
    return this.#dedicated(await this.ownerOf(key), name, () => null);
  }

  /**
   * A connection of its own, beside the command connection: a duplicate of a single Redis's, or
   * one to a cluster node, which reconnects as `retryStrategy` says.
   */
  #dedicated(to: Redis | RedisNode, name: string, retryStrategy?: (times: number) => number | null): Redis {
    const own = { enableAutoPipelining: false, connectionName: name, maxRetriesPerRequest: null };
    if (to instanceof Redis) return to.duplicate(own);
    return new Redis({ ...this.#nodeOptions(), ...to, ...own, retryStrategy });
  }

  /** The primary that serves `key`'s slot now, as the cluster client last learnt it. */
  async ownerOf(key: string): Promise<RedisNode> {
    const client = await this.client();
    if (client instanceof Redis)
      return { host: client.options.host ?? '127.0.0.1', port: client.options.port ?? 6379 };
    await ready(client);
    const owner = client.slots[calculateSlot(key)]?.[0];
    if (!owner) throw new Error(`no cluster node serves the slot of ${key} yet`);
    const colon = owner.lastIndexOf(':');
    return { host: owner.slice(0, colon), port: Number(owner.slice(colon + 1)) };
  }

  /**
   * The command connection to `key`'s primary, open: a single Redis itself, or the cluster
   * client's own connection to that node, the one a command on `key` was sent on (WAIT counts
   * its writes).
   */
  async nodeOf(key: string): Promise<Redis> {
    const client = await this.client();
    if (client instanceof Redis) return client;
    // A primary that died is still the slot's owner to the client (its connection closed, or gone
    // from the pool) until the client learns who took its slots, and nothing sent on it would
    // teach it: learn the slots again and wait, as routed commands ride out a failover. A node's
    // connection opens with its first command: a PING opens it, so its socket is known.
    for (let attempt = 1; ; attempt++) {
      const owner = await this.ownerOf(key);
      const found = connectionTo(client, owner);
      if (found && (found.status === 'ready' || (await found.ping().then(Boolean, () => false))))
        return found;
      if (attempt >= CLUSTER_REDIRECTIONS)
        throw new Error(`the cluster client cannot reach ${owner.host}:${owner.port}, the primary of ${key}`);
      client.refreshSlotsCache();
      await sleep(CLUSTER_RETRY_DELAY_MS);
    }
  }

  /** The command connection to one node (on a single Redis, the only one). */
  async nodeAt(node: Partial<RedisNode>): Promise<Redis> {
    const client = await this.client();
    if (client instanceof Redis) return client;
    const found = connectionTo(client, node);
    if (!found) throw new Error(`the cluster client has no connection to ${node.host}:${node.port}`);
    return found;
  }

  /** After a MOVED seen outside the cluster client (a blocking reader's), learn the slots again. */
  refreshSlots(): void {
    if (this.#current instanceof Cluster) this.#current.refreshSlotsCache();
  }

  /**
   * Runs `attempt` again while a cluster fails over under it, as routed commands are retried:
   * a SCAN goes to one node's own connection, which the cluster client does not redirect, so
   * a primary that dies mid-SCAN (or is still listed after it died) would fail the whole call.
   * On a single Redis, and for a refusal (NOPERM, WRONGTYPE), the first error is the answer.
   */
  async ridingFailover<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(this.#current instanceof Cluster) || !isFailoverError(error) || tries >= CLUSTER_REDIRECTIONS)
          throw error;
        this.#current.refreshSlotsCache();
        await sleep(CLUSTER_RETRY_DELAY_MS);
      }
    }
  }

  /**
   * The command connection of every slot's primary: where a SCAN must go to see every key. A
   * primary the client has lost (dead, and not yet replaced in its slot table) throws, to be
   * ridden out (ridingFailover), rather than be skipped: skipping it would hide its keys.
   */
  async primaries(): Promise<Redis[]> {
    const client = await this.client();
    if (client instanceof Redis) return [client];
    await ready(client);
    const owners = new Set<string>();
    for (let slot = 0; slot < SLOTS; slot++) {
      const owner = client.slots[slot]?.[0];
      if (!owner) throw new Error(`no cluster node serves slot ${slot} yet`);
      owners.add(owner);
    }
    return [...owners].map((owner) => {
      const colon = owner.lastIndexOf(':');
      const found = connectionTo(client, {
        host: owner.slice(0, colon),
        port: Number(owner.slice(colon + 1)),
      });
      if (!found)
        throw new Error(`the cluster client has no connection to ${owner}, a primary in its slot table`);
      return found;
    });
  }

  /**
   * A connection for SUBSCRIBE and PSUBSCRIBE. A cluster passes every PUBLISH to every node, so
   * any node will do; it gives up after 3 reconnects there, so that a subscriber on a node that is
   * gone ends and its owner picks another.
   */
  async subscriber(name: string, avoid?: RedisNode): Promise<Redis> {
    const client = await this.client();
    if (client instanceof Redis) return this.#dedicated(client, name);
    await ready(client);
    const nodes = client
      .nodes('all')
      .map((n) => ({ host: n.options.host as string, port: n.options.port as number }));
    const others = nodes.filter((n) => !(avoid && n.host === avoid.host && n.port === avoid.port));
    const node = pick(others.length > 0 ? others : nodes);
    if (!node) throw new Error('the cluster client knows no node yet');
    return this.#dedicated(node, name, (times) => (times > 3 ? null : 200 * times));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#probe?.disconnect();
    const client = this.#current;
    if (!client) return;
    // QUIT waits for a connection; a client that has none (Redis away) just lets go.
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    await client.quit().catch(() => client.disconnect());
  }
}

/** A reply that a failover or slot move explains, or no reply at all (a connection lost). */
function isFailoverError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name !== 'ReplyError') return true;
  return /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b/.test(error.message);
}

/** The cluster client's connection to one node, if it has one. */
function connectionTo(cluster: Cluster, node: Partial<RedisNode>): Redis | undefined {
  return cluster.nodes('all').find((n) => n.options.host === node.host && n.options.port === node.port);
}

/** Waits for the cluster client's first slot table (commands queue for it anyway). */
async function ready(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      cluster.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      cluster.off('ready', onReady);
      reject(new Error('the cluster connection ended'));
    };
    cluster.once('ready', onReady);
    cluster.once('end', onEnd);
  });
}

const pick = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

export { redactUrl };
