import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type Fields, fieldsFromArray, fieldsToArray } from '../../codec';
import { CONSUMER_GROUP, keys, partitionOf } from '../../keys';
import { errorMessage } from '../delivery';
import { type PendingEntry, type RawEntry, type Retention, type TaskQueue, trimOf } from '../transport';
import type { RedisClient, RedisConnection } from './connections';
import type { DurableWrites } from './durable-writes';
import type { ScriptCaller } from './scripts';

/** A blocked read that has not answered this long after its BLOCK ended is presumed wedged. */
const WATCHDOG_GRACE_MS = 3_000;

/** Completions settled by one script call at most (bounded to keep the call's arguments modest). */
const MAX_COMPLETE_BATCH = 256;

interface PendingCompletion {
  entryId: string;
  finding: string;
  resolve: (id: string | null | 'lost') => void;
  reject: (error: unknown) => void;
}

type StreamReply = [string, [string, string[] | null][]][] | null;

export function entriesOf(reply: StreamReply, deliveries = 1): RawEntry[] {
  const entries = reply?.[0]?.[1] ?? [];
  const out: RawEntry[] = [];
  for (const [id, flat] of entries) {
    // A null body is an entry deleted while pending: nothing to deliver.
    if (flat) out.push({ id, fields: fieldsFromArray(flat), deliveries });
  }
  return out;
}

export class RedisTaskQueue implements TaskQueue {
  readonly #stream: string;
  readonly #leases: string;
  #blocking: Promise<Redis> | undefined;
  #blockingClientId: number | undefined;
  #missedDeliveries = false;
  #completions: PendingCompletion[] = [];
  /** Where the next reclaim scan of the pending list resumes. */
  #reclaimCursor = '0-0';

  constructor(
    private readonly connection: RedisConnection,
    private readonly call: ScriptCaller,
    private readonly swarm: string,
    private readonly type: string,
    private readonly consumer: string,
    private readonly leaseMs: number,
    private readonly retention: Retention,
    private readonly durable: DurableWrites,
    private readonly log: Logger,
  ) {
    this.#stream = keys.tasks(swarm, type);
    this.#leases = keys.leases(swarm, type);
  }

  async ensureGroup(): Promise<void> {
    const redis = await this.connection.client();
    const create = redis
      .call('XGROUP', 'CREATE', this.#stream, CONSUMER_GROUP, '0', 'MKSTREAM')
      .catch((error: unknown) => {
        if (!String(error).includes('BUSYGROUP')) throw error;
      });
    await Promise.all([
      create,
      redis.hset(this.#leases, this.consumer, this.leaseMs),
      this.#recordRetention(redis),
    ]);
  }

  /**
   * Writes this worker's bounds where a worker in another language reads the swarm's retention
   * (docs/PROTOCOL.md, Retention); a worker without bounds leaves what others recorded. A
   * partition's worker writes them on the swarm's own tag, where every partition's workers read.
   */
  #recordRetention(redis: RedisClient): Promise<number> | undefined {
    const record: string[] = [];
    const bounds = [
      ['findings', this.retention.findings],
      ['dead', this.retention.deadLetters],
    ] as const;
    for (const [field, bound] of bounds) {
      const [kind, value] = trimOf(bound);
      if (kind) record.push(field, `${kind} ${value}`);
    }
    return record.length > 0
      ? redis.hset(keys.retention(partitionOf(this.swarm).swarm), ...record)
      : undefined;
  }

  #connection(): Promise<Redis> {
    if (this.#blocking) return this.#blocking;
    const opened = this.connection.blocking(`swarm:${this.consumer}`, this.#stream).then((conn) => {
      this.#watch(conn);
      return conn;
    });
    // A connection that could not be opened (no node for the slot yet) is asked for again.
    opened.catch(() => {
      if (this.#blocking === opened) this.#blocking = undefined;
    });
    this.#blocking = opened;
    return opened;
  }

  #watch(conn: Redis): void {
    let connectedBefore = false;
    conn.on('ready', () => {
      // After a reconnect, a reply to a read that Redis did execute may have been lost.
      if (connectedBefore) this.#missedDeliveries = true;
      connectedBefore = true;
      conn.client('ID').then(
        (id) => {
          this.#blockingClientId = Number(id);
        },
        () => {},
      );
    });
    conn.on('error', (error: Error) => this.log.debug({ err: error.message }, 'blocking connection error'));
  }

  #replaceConnection(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    this.log[level]({ reason }, 'replacing blocking connection');
    this.#blocking?.then((conn) => conn.disconnect()).catch(() => {});
    this.#blocking = undefined;
    this.#blockingClientId = undefined;
    this.#missedDeliveries = true;
  }

  takeMissedDeliveries(): boolean {
    const missed = this.#missedDeliveries;
    this.#missedDeliveries = false;
    return missed;
  }

  async readNew(count: number, blockMs: number): Promise<RawEntry[]> {
    const opening = this.#connection();
    const conn = await opening;
    const watchdog = setTimeout(() => {
      if (this.#blocking === opening) this.#replaceConnection('blocking read overdue');
    }, blockMs + WATCHDOG_GRACE_MS);
    try {
      const reply = (await conn.call(
        'XREADGROUP',
        'GROUP',
        CONSUMER_GROUP,
        this.consumer,
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        this.#stream,
        '>',
      )) as StreamReply;
      const entries = entriesOf(reply);
      // The read recreates a consumer pruned while it waited; so must its lease record be.
      if (entries.length > 0)
        (await this.connection.client())
          .hset(this.#leases, this.consumer, this.leaseMs)
          .catch((error: unknown) => this.log.debug({ err: String(error) }, 'could not record the lease'));
      return entries;
    } catch (error) {
      // A cluster reader holds one connection to the slot's primary and does not reconnect:
      // after a failover, a slot move or a lost node, the next read finds the slot's owner anew.
      if (this.connection.isCluster && this.#blocking === opening) {
        this.#replaceConnection(errorMessage(error), 'debug');
        if (/^(MOVED|ASK|CLUSTERDOWN)\b/.test(errorMessage(error))) this.connection.refreshSlots();
      }
      throw error;
    } finally {
      clearTimeout(watchdog);
    }
  }

  async readOwnPending(count: number): Promise<RawEntry[]> {
    const redis = await this.connection.client();
    const reply = (await redis.call(
      'XREADGROUP',
      'GROUP',
      CONSUMER_GROUP,
      this.consumer,
      'COUNT',
      count,
      'STREAMS',
      this.#stream,
      '0',
    )) as StreamReply;
    const entries = entriesOf(reply);
    if (entries.length === 0) return entries;
    const pending = (await redis.call(
      'XPENDING',
      this.#stream,
      CONSUMER_GROUP,
      '-',
      '+',
      count,
      this.consumer,
    )) as [string, string, number, number][];
    const deliveries = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
    for (const entry of entries) entry.deliveries = deliveries.get(entry.id) ?? 1;
    return entries;
  }

  async reclaim(count: number, maxAttempts: number): Promise<RawEntry[]> {
    const [kind, value] = trimOf(this.retention.deadLetters);
    const [cursor, claimed] = (await this.call(
      'reclaim',
      [this.#stream, keys.deadLetters(this.swarm), this.#leases],
      [
        CONSUMER_GROUP,
        this.consumer,
        this.leaseMs,
        count,
        maxAttempts,
        this.type,
        kind,
        value,
        this.#reclaimCursor,
      ],
    )) as [string, [string, string[], number][]];
    this.#reclaimCursor = cursor;
    return claimed.map(([id, flat, deliveries]) => ({
      id,
      fields: fieldsFromArray(flat),
      deliveries: Number(deliveries),
    }));
  }

  async renew(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.call(
      'renew',
      [this.#stream, this.#leases],
      [CONSUMER_GROUP, this.consumer, this.leaseMs, ...ids],
    )) as string[];
  }

  async inspect(entryId: string): Promise<PendingEntry | undefined> {
    const redis = await this.connection.client();
    const [pending, range] = await Promise.all([
      redis.call('XPENDING', this.#stream, CONSUMER_GROUP, entryId, entryId, 1) as Promise<
        [string, string, number, number][]
      >,
      redis.call('XRANGE', this.#stream, entryId, entryId) as Promise<[string, string[]][]>,
    ]);
    const [info] = pending;
    const [entry] = range;
    if (!info || !entry) return undefined;
    return { owner: info[1], deliveries: Number(info[3]), fields: fieldsFromArray(entry[1]) };
  }

  complete(
    entryId: string,
    finding: string,
    options: { owned?: boolean } = {},
  ): Promise<string | null | 'lost'> {
    return new Promise((resolve, reject) => {
      const completion = { entryId, finding, resolve, reject };
      // A claim's report is one call of its own, checked against its owner.
      if (options.owned) return this.#completeBatch([completion], this.consumer);
      this.#completions.push(completion);
      if (this.#completions.length >= MAX_COMPLETE_BATCH) this.#flushCompletions();
      else if (this.#completions.length === 1) setImmediate(() => this.#flushCompletions());
    });
  }

  /** Settles every completion queued this event-loop turn with one script call. */
  #flushCompletions(): void {
    const batch = this.#completions;
    if (batch.length === 0) return;
    this.#completions = [];
    this.#completeBatch(batch, '');
  }

  #completeBatch(batch: PendingCompletion[], owner: string): void {
    this.#settleBatch(batch, owner).then(
      (ids) => {
        batch.forEach((c, i) => {
          const id = ids[i];
          c.resolve(id === 'lost' ? 'lost' : id ? id : null);
        });
      },
      (error: unknown) => {
        for (const c of batch) c.reject(error);
      },
    );
  }

  async #settleBatch(batch: PendingCompletion[], owner: string): Promise<string[]> {
    const durable = await this.durable.begin(this.swarm);
    const [kind, value] = trimOf(this.retention.findings);
    // A durable swarm's broadcast waits for its replicas: the script hands it back instead.
    const channel = durable ? '' : keys.findingsChannel(this.swarm);
    const args: string[] = [CONSUMER_GROUP, channel, kind, value, owner];
    for (const c of batch) args.push(c.entryId, c.finding);
    const ids = (await this.call('complete', [this.#stream, keys.findings(this.swarm)], args)) as string[];
    if (!durable) return ids;
    const broadcast = ids.pop() as string;
    await this.durable.confirm(this.swarm, durable);
    const written = ids.filter((id) => id !== '' && id !== 'lost');
    await this.durable.show(this.swarm, written.at(-1), broadcast);
    return ids;
  }

  async retry(entryId: string, next: Fields, delayMs: number): Promise<boolean> {
    const done = await this.call(
      'retry',
      [this.#stream, keys.delayed(this.swarm, this.type)],
      [CONSUMER_GROUP, entryId, this.consumer, Math.round(delayMs), JSON.stringify(fieldsToArray(next))],
    );
    return done === 1;
  }

  async deadLetter(entryId: string, dead: Fields): Promise<boolean> {
    const [kind, value] = trimOf(this.retention.deadLetters);
    const done = await this.call(
      'deadLetter',
      [this.#stream, keys.deadLetters(this.swarm)],
      [CONSUMER_GROUP, entryId, this.consumer, kind, value, ...fieldsToArray(dead)],
    );
    return done === 1;
  }

  async promoteDue(): Promise<number> {
    return Number(await this.call('promote', [keys.delayed(this.swarm, this.type), this.#stream], [100]));
  }

  async pruneIdleConsumers(idleMs: number): Promise<number> {
    return Number(
      await this.call(
        'pruneConsumers',
        [this.#stream, this.#leases],
        [CONSUMER_GROUP, Math.round(idleMs), this.consumer],
      ),
    );
  }

  interrupt(): void {
    const id = this.#blockingClientId;
    if (id === undefined) return;
    this.#blocking
      ?.then(async (conn) => {
        // CLIENT UNBLOCK goes to the node the reader is blocked on.
        const node = await this.connection.nodeAt({ host: conn.options.host, port: conn.options.port });
        await node.call('CLIENT', 'UNBLOCK', id);
      })
      .catch(() => {});
  }

  async close(): Promise<void> {
    try {
      await this.call('removeConsumer', [this.#stream, this.#leases], [CONSUMER_GROUP, this.consumer]);
    } catch (error) {
      this.log.debug({ err: String(error) }, 'could not remove consumer');
    }
    this.#blocking?.then((conn) => conn.disconnect()).catch(() => {});
    this.#blocking = undefined;
  }
}
