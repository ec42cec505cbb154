import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Observable, type Subscriber } from 'rxjs';
import { type Fields, fieldsToArray } from '../../codec';
import { CONSUMER_GROUP, keys } from '../../keys';
import type { TaskTypeStatus } from '../../messages';
import type { DurabilityOption } from '../durability';
import { compareIds } from '../stream-id';
import {
  type FindingsBroadcast,
  partitionCounts,
  type RawEntry,
  type Retention,
  type TaskQueue,
  type Transport,
  trimOf,
} from '../transport';
import { type ConnectionOptions, type RedisClient, RedisConnection, redactUrl } from './connections';
import { DurableWrites } from './durable-writes';
import { RedisLedger } from './redis-ledger';
import { entriesOf, RedisTaskQueue } from './redis-queue';
import type { RedisNode } from './redis-url';
import { defineScripts, type ScriptCaller } from './scripts';

type RangeReply = [string, string[]][];

const POST_BATCH = 500;
/** Findings per publish call: a script runs atomically, so keep each one short. */
const PUBLISH_BATCH = 256;
/** How long a write's token outlives it: longer than a reconnect and resend (about 100 bytes per call). */
const ONCE_WINDOW_MS = 60 * 1000;

const toEntries = (reply: RangeReply): RawEntry[] =>
  entriesOf([['', reply]] as unknown as Parameters<typeof entriesOf>[0]);

/** After a subscriber connection could not be opened, how long before trying again. */
const SUBSCRIBER_RETRY_MS = 1_000;

export class RedisTransport implements Transport {
  readonly connection: RedisConnection;
  readonly #call: ScriptCaller;
  readonly ledger: RedisLedger;
  readonly #durable: DurableWrites;
  #subscriber: Promise<Redis> | undefined;
  #closed = false;
  readonly #doorbells = new Map<string, Set<Subscriber<FindingsBroadcast | undefined>>>();
  readonly #activity = new Map<string, Set<Subscriber<string>>>();
  readonly #publishing = new Map<
    string,
    { finding: string; resolve: (id: string) => void; reject: (error: unknown) => void }[]
  >();

  constructor(
    options: ConnectionOptions,
    private readonly retention: Retention,
    private readonly log: Logger,
    durability?: DurabilityOption,
  ) {
    this.connection = new RedisConnection(options);
    this.connection.onError((error: Error) =>
      this.log.warn({ err: error.message, redis: redactUrl(options.url) }, 'redis connection error'),
    );
    this.#call = defineScripts(this.connection.client());
    this.ledger = new RedisLedger(this.connection, this.#call);
    this.#durable = new DurableWrites(this.connection, this.#call, durability, log);
  }

  #redis(): Promise<RedisClient> {
    return this.connection.client();
  }

  openQueue(swarm: string, type: string, consumer: string, leaseMs: number): TaskQueue {
    return new RedisTaskQueue(
      this.connection,
      this.#call,
      swarm,
      type,
      consumer,
      leaseMs,
      this.retention,
      this.#durable,
      this.log.child({ consumer }),
    );
  }

  async leaseOf(swarm: string, type: string, consumer: string): Promise<number | undefined> {
    const ms = await (await this.#redis()).hget(keys.leases(swarm, type), consumer);
    return ms === null ? undefined : Number(ms);
  }

  async append(swarm: string, type: string, tasks: string[]): Promise<void> {
    const stream = keys.tasks(swarm, type);
    const durable = await this.#durable.begin(swarm);
    // Scripts run atomically: cap each call so one large batch never stalls Redis for long.
    // Each call carries a token: ioredis resends a call whose reply a dropped connection lost,
    // and a post that Redis had already applied must not be applied twice.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < tasks.length; i += POST_BATCH) {
      calls.push(
        this.#call(
          'postBatch',
          [stream, keys.once(swarm, randomUUID())],
          [ONCE_WINDOW_MS, ...tasks.slice(i, i + POST_BATCH)],
        ),
      );
    }
    await Promise.all(calls);
    await this.#durable.confirm(swarm, durable);
  }

  async appendIdempotent(
    swarm: string,
    type: string,
    task: Fields,
    taskId: string,
    key: string,
    windowMs: number,
  ): Promise<{ posted: boolean; id: string }> {
    const durable = await this.#durable.begin(swarm);
    const [posted, id] = (await this.#call(
      'postIdempotent',
      [keys.tasks(swarm, type), keys.idempotency(swarm, key)],
      [windowMs, taskId, ...fieldsToArray(task)],
    )) as [number, string];
    // A repeat (posted 0) is confirmed too: the first post's reply may have been lost before its WAIT.
    await this.#durable.confirm(swarm, durable);
    return { posted: posted === 1, id };
  }

  async readFindings(
    swarm: string,
    from: { after: string } | { start: string },
    count: number,
  ): Promise<RawEntry[]> {
    const start = 'after' in from ? `(${from.after}` : from.start;
    // Through a script: a durable swarm's readers stop at its mark (durable-writes.ts).
    return toEntries(
      (await this.#call(
        'readFindings',
        [keys.findings(swarm), keys.durable(swarm)],
        ['range', start, count],
      )) as RangeReply,
    );
  }

  async lastFindingId(swarm: string): Promise<string> {
    const [readable, newest] = (await this.#call(
      'readFindings',
      [keys.findings(swarm), keys.durable(swarm)],
      ['last', '-', 1],
    )) as [string, string];
    if (readable !== newest)
      this.#durable
        .lagged(swarm, readable, newest)
        .catch((error: unknown) =>
          this.log.debug({ swarm, err: String(error) }, 'durable mark catch-up failed'),
        );
    return readable;
  }

  publishFinding(swarm: string, finding: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let queue = this.#publishing.get(swarm);
      if (!queue) {
        queue = [];
        this.#publishing.set(swarm, queue);
      }
      queue.push({ finding, resolve, reject });
      if (this.#publishing.size === 1 && queue.length === 1) setImmediate(() => this.#flushPublishes());
    });
  }

  /** One script call (and one broadcast) per swarm for everything published in one turn. */
  #flushPublishes(): void {
    const [kind, value] = trimOf(this.retention.findings);
    for (const [swarm, queue] of this.#publishing) {
      for (let i = 0; i < queue.length; i += PUBLISH_BATCH) {
        const batch = queue.slice(i, i + PUBLISH_BATCH);
        this.#publishBatch(
          swarm,
          batch.map((p) => p.finding),
          kind,
          value,
        ).then(
          (ids) => {
            for (const [k, p] of batch.entries()) p.resolve(ids[k] as string);
          },
          (error: unknown) => {
            for (const p of batch) p.reject(error);
          },
        );
      }
    }
    this.#publishing.clear();
  }

  async #publishBatch(swarm: string, findings: string[], kind: string, value: string): Promise<string[]> {
    const durable = await this.#durable.begin(swarm);
    const ids = (await this.#call(
      'publishFindings',
      [keys.findings(swarm), keys.once(swarm, randomUUID())],
      // A durable swarm's broadcast waits for its replicas: the script hands it back instead.
      [durable ? '' : keys.findingsChannel(swarm), kind, value, ONCE_WINDOW_MS, ...findings],
    )) as string[];
    if (!durable) return ids;
    const broadcast = ids.pop() as string;
    await this.#durable.confirm(swarm, durable);
    await this.#durable.show(swarm, ids.at(-1), broadcast);
    return ids;
  }

  async readCursors(swarm: string): Promise<Record<string, string>> {
    return (await this.#redis()).hgetall(keys.cursors(swarm));
  }

  async putCursor(swarm: string, subscriber: string, id: string): Promise<void> {
    await (await this.#redis()).hset(keys.cursors(swarm), subscriber, id);
  }

  async deleteCursor(swarm: string, subscriber: string): Promise<boolean> {
    return (await (await this.#redis()).hdel(keys.cursors(swarm), subscriber)) > 0;
  }

  findingsDoorbell$(swarm: string): Observable<FindingsBroadcast | undefined> {
    const channel = keys.findingsChannel(swarm);
    return new Observable<FindingsBroadcast | undefined>((subscriber) => {
      let listeners = this.#doorbells.get(channel);
      if (!listeners) {
        listeners = new Set();
        this.#doorbells.set(channel, listeners);
        this.#subscriberConnection()
          .then((conn) => conn.subscribe(channel))
          .catch((error: unknown) => this.log.warn({ err: String(error) }, 'subscribe failed'));
      }
      listeners.add(subscriber);
      return () => {
        listeners.delete(subscriber);
        if (listeners.size === 0 && this.#doorbells.get(channel) === listeners) {
          this.#doorbells.delete(channel);
          this.#subscriber?.then((conn) => conn.unsubscribe(channel)).catch(() => {});
        }
      };
    });
  }

  findingsActivity$(pattern: string): Observable<string> {
    const channelPattern = keys.findingsChannel(pattern);
    return new Observable<string>((subscriber) => {
      let listeners = this.#activity.get(channelPattern);
      if (!listeners) {
        listeners = new Set();
        this.#activity.set(channelPattern, listeners);
        this.#subscriberConnection()
          .then((conn) => conn.psubscribe(channelPattern))
          .catch((error: unknown) => this.log.warn({ err: String(error) }, 'psubscribe failed'));
      }
      listeners.add(subscriber);
      return () => {
        listeners.delete(subscriber);
        if (listeners.size === 0 && this.#activity.get(channelPattern) === listeners) {
          this.#activity.delete(channelPattern);
          this.#subscriber?.then((conn) => conn.punsubscribe(channelPattern)).catch(() => {});
        }
      };
    });
  }

  #subscriberConnection(): Promise<Redis> {
    this.#subscriber ??= this.#openSubscriber(false);
    return this.#subscriber;
  }

  /**
   * The pub/sub connection. A single Redis's reconnects by itself. On a cluster it is a connection
   * to one node that gives up when that node is gone: then another node takes every channel over.
   * Either way, messages published in between are lost, so every doorbell rings once after.
   */
  async #openSubscriber(replacing: boolean, avoid?: RedisNode): Promise<Redis> {
    let conn: Redis;
    try {
      conn = await this.connection.subscriber('swarm:doorbell', avoid);
    } catch (error) {
      this.log.warn({ err: String(error) }, 'cannot open the subscriber connection yet; retrying');
      this.#subscriber = undefined;
      setTimeout(() => {
        if (!this.#closed && (this.#doorbells.size > 0 || this.#activity.size > 0))
          this.#resubscribe(this.#openSubscriber(true, avoid));
      }, SUBSCRIBER_RETRY_MS).unref();
      throw error;
    }
    let connectedBefore = false;
    conn.on('message', (channel: string, message: string) => {
      const listeners = this.#doorbells.get(channel);
      if (!listeners) return;
      const broadcast = parseBroadcast(message);
      for (const listener of listeners) listener.next(broadcast);
    });
    conn.on('pmessage', (pattern: string, channel: string) => {
      const swarm = keys.swarmOf(channel);
      const listeners = this.#activity.get(pattern);
      if (swarm && listeners) for (const listener of listeners) listener.next(swarm);
    });
    conn.on('ready', () => {
      if (connectedBefore || replacing) this.#ringAll();
      connectedBefore = true;
    });
    conn.on('error', (error: Error) => this.log.debug({ err: error.message }, 'subscriber connection error'));
    conn.once('end', () => {
      if (this.#closed || !this.connection.isCluster) return;
      const gone = { host: conn.options.host as string, port: conn.options.port as number };
      this.log.info({ node: `${gone.host}:${gone.port}` }, 'subscriber node gone; moving to another');
      this.#resubscribe(this.#openSubscriber(true, gone));
    });
    return conn;
  }

  /** Takes every channel and pattern over on a new subscriber connection. */
  #resubscribe(opening: Promise<Redis>): void {
    this.#subscriber = opening;
    opening
      .then(async (conn) => {
        const channels = [...this.#doorbells.keys()];
        const patterns = [...this.#activity.keys()];
        if (channels.length > 0) await conn.subscribe(...channels);
        if (patterns.length > 0) await conn.psubscribe(...patterns);
        this.#ringAll();
      })
      .catch((error: unknown) => this.log.debug({ err: String(error) }, 'resubscribe failed'));
  }

  #ringAll(): void {
    for (const listeners of this.#doorbells.values()) for (const l of listeners) l.next(undefined);
  }

  async readDeadLetters(swarm: string, count: number): Promise<RawEntry[]> {
    return toEntries(
      (await (
        await this.#redis()
      ).call('XRANGE', keys.deadLetters(swarm), '-', '+', 'COUNT', count)) as RangeReply,
    );
  }

  async readDeadLetter(swarm: string, id: string): Promise<RawEntry | undefined> {
    return toEntries(
      (await (await this.#redis()).call('XRANGE', keys.deadLetters(swarm), id, id)) as RangeReply,
    )[0];
  }

  async moveDeadLetter(swarm: string, id: string, type: string, task: Fields): Promise<boolean> {
    const durable = await this.#durable.begin(swarm);
    const moved = await this.#call(
      'retryDeadLetter',
      [keys.deadLetters(swarm), keys.tasks(swarm, type)],
      [id, ...fieldsToArray(task)],
    );
    await this.#durable.confirm(swarm, durable);
    return typeof moved === 'string';
  }

  async purgeDeadLetters(swarm: string): Promise<number> {
    const durable = await this.#durable.begin(swarm);
    // XTRIM to 0 rather than DEL: one atomic step that counts what it removed, and the stream
    // (with its retention) stays, so a dead letter written meanwhile lands in it or after it.
    const removed = Number(await (await this.#redis()).call('XTRIM', keys.deadLetters(swarm), 'MAXLEN', '0'));
    await this.#durable.confirm(swarm, durable);
    return removed;
  }

  async swarms(): Promise<string[]> {
    return this.#scanSwarms(keys.anySwarm);
  }

  swarmsWithFindings(pattern: string): Promise<string[]> {
    // The glob goes inside the hash tag, so SCAN itself skips every other key.
    return this.#scanSwarms(keys.findings(pattern));
  }

  /** On a cluster, every primary: SCAN sees one node's keys. */
  async #scanSwarms(match: string): Promise<string[]> {
    const names = new Set<string>();
    const found = await this.connection.ridingFailover(async () =>
      Promise.all((await this.connection.primaries()).map((node) => scanKeys(node, match))),
    );
    for (const key of found.flat()) {
      const swarm = keys.swarmOf(key);
      if (swarm) names.add(swarm);
    }
    return [...names].sort();
  }

  async putError(swarm: string, consumer: string, record: string | undefined): Promise<void> {
    const redis = await this.#redis();
    if (record === undefined) await redis.hdel(keys.errors(swarm), consumer);
    else await redis.hset(keys.errors(swarm), consumer, record);
  }

  async readErrors(swarm: string): Promise<Record<string, string>> {
    return (await this.#redis()).hgetall(keys.errors(swarm));
  }

  async readPartitions(swarm: string): Promise<Record<string, number>> {
    return partitionCounts(await (await this.#redis()).hgetall(keys.partitions(swarm)));
  }

  async putPartitions(swarm: string, type: string, partitions: number): Promise<void> {
    await (await this.#redis()).hset(keys.partitions(swarm), type, partitions);
  }

  async putShard(swarm: string, id: string, info: string): Promise<void> {
    await (await this.#redis()).hset(keys.shards(swarm), id, info);
  }

  async readShards(swarm: string): Promise<Record<string, string>> {
    return (await this.#redis()).hgetall(keys.shards(swarm));
  }

  async status(swarm: string): Promise<{ types: TaskTypeStatus[]; findings: number; deadLetters: number }> {
    const prefix = keys.tasks(swarm, '');
    const redis = await this.#redis();
    // Every key of a swarm is on its slot's primary: that node's SCAN sees them all.
    const streams = new Set(
      await this.connection.ridingFailover(async () =>
        scanKeys(await this.connection.nodeOf(prefix), keys.taskStreams(swarm)),
      ),
    );
    const types = await Promise.all(
      [...streams].sort().map((stream) =>
        taskTypeStatus(redis, stream, stream.slice(prefix.length), swarm).catch((error: unknown) => {
          // A key where a task stream belongs that is no stream is not a task type (and its
          // consumers' failing reads are in `errors`); any other failure is the status's.
          if (String(error).includes('WRONGTYPE')) return undefined;
          throw error;
        }),
      ),
    );
    const [findings, deadLetters] = await Promise.all([
      redis.xlen(keys.findings(swarm)),
      redis.xlen(keys.deadLetters(swarm)),
    ]);
    return { types: types.filter((t) => t !== undefined), findings, deadLetters };
  }

  async readCounters(swarm: string): Promise<Record<string, string>> {
    return (await this.#redis()).hgetall(keys.counters(swarm));
  }

  async putBlob(swarm: string, ref: string, parts: Map<string, Buffer>): Promise<void> {
    const args: (string | Buffer)[] = [];
    for (const [name, value] of parts) args.push(name, value);
    await (await this.#redis()).call('HSET', keys.context(swarm, ref), ...args);
  }

  async getBlob(swarm: string, ref: string): Promise<Map<string, Buffer> | undefined> {
    const hash = await (await this.#redis()).hgetallBuffer(keys.context(swarm, ref));
    const parts = new Map(Object.entries(hash));
    return parts.size === 0 ? undefined : parts;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscriber?.then((conn) => conn.disconnect()).catch(() => {});
    this.#subscriber = undefined;
    await this.connection.close();
  }
}

export type { ConnectionOptions };

type GroupInfo = Record<string, string | number | null>;

const idAgeMs = (id: string | undefined, now: number) =>
  id ? Math.max(0, now - Number(id.split('-')[0])) : 0;

async function scanKeys(node: Redis, match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
    cursor = next;
    found.push(...page);
  } while (cursor !== '0');
  return found;
}

async function taskTypeStatus(
  redis: RedisClient,
  stream: string,
  type: string,
  swarm: string,
): Promise<TaskTypeStatus> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as (string | number | null)[][];
  const flat = groups.map((g) => {
    const info: GroupInfo = {};
    for (let i = 0; i + 1 < g.length; i += 2) info[String(g[i])] = g[i + 1] ?? null;
    return info;
  });
  const group = flat.find((g) => g.name === CONSUMER_GROUP);
  const now = Date.now();
  const delayed = await redis.zcard(keys.delayed(swarm, type));
  if (!group) {
    const [length, first] = await Promise.all([
      redis.xlen(stream),
      redis.xrange(stream, '-', '+', 'COUNT', 1),
    ]);
    return {
      type,
      waiting: length,
      inFlight: 0,
      delayed,
      consumers: 0,
      oldestAgeMs: idAgeMs(first[0]?.[0], now),
    };
  }
  const lastDelivered = String(group['last-delivered-id'] ?? '0-0');
  const [pending, firstWaiting] = await Promise.all([
    redis.call('XPENDING', stream, CONSUMER_GROUP) as Promise<
      [number, string | null, string | null, unknown]
    >,
    redis.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', 1),
  ]);
  // Redis cannot always compute lag (after deletions); count what is left instead, up to a bound.
  const waiting =
    group.lag === null || group.lag === undefined
      ? (await redis.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', 100_000)).length
      : Number(group.lag);
  const oldest = [pending[1], firstWaiting[0]?.[0]]
    .filter((id): id is string => Boolean(id))
    .sort(compareIds)[0];
  return {
    type,
    waiting,
    inFlight: Number(pending[0]),
    delayed,
    consumers: Number(group.consumers ?? 0),
    oldestAgeMs: idAgeMs(oldest, now),
  };
}

/** A broadcast we cannot read (a foreign publisher) still rings the doorbell. */
function parseBroadcast(message: string): FindingsBroadcast | undefined {
  try {
    const parsed = JSON.parse(message) as FindingsBroadcast;
    return typeof parsed.prev === 'string' && Array.isArray(parsed.findings) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export { redactUrl };
