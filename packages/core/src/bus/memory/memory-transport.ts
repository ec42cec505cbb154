import { Observable, type Subscriber } from 'rxjs';
import type { Clock } from '../../clock';
import { encodeDeadLetter, type Fields, taskHistoryOf } from '../../codec';
import { keys, partitionOf } from '../../keys';
import type { TaskTypeStatus } from '../../messages';
import { swarmMatcher } from '../../subscription/swarm-pattern';
import { type CounterEvent, counterField } from '../counters';
import type {
  FindingsBroadcast,
  PendingEntry,
  RawEntry,
  Retention,
  TaskQueue,
  Transport,
} from '../transport';
import { partitionCounts } from '../transport';
import { MemoryLedger } from './memory-ledger';
import { MemoryStream } from './memory-stream';

interface Delayed {
  dueAt: number;
  fields: Fields;
}

/**
 * The in-process twin of RedisTransport: the same keys, entry fields and script semantics,
 * kept in Maps. Time comes from the injected clock, so leases and backoff need no sleeping.
 */
export class MemoryTransport implements Transport {
  readonly #streams = new Map<string, MemoryStream>();
  readonly #delayed = new Map<string, Delayed[]>();
  readonly #idempotency = new Map<string, { id: string; expiresAt: number }>();
  readonly #blobs = new Map<string, Map<string, Buffer>>();
  readonly #shards = new Map<string, Record<string, string>>();
  readonly #partitions = new Map<string, Record<string, string>>();
  readonly #errors = new Map<string, Map<string, string>>();
  readonly #cursors = new Map<string, Record<string, string>>();
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #activity = new Set<{ matches: (swarm: string) => boolean; subscriber: Subscriber<string> }>();
  readonly #doorbells = new Map<string, Set<Subscriber<FindingsBroadcast | undefined>>>();
  readonly ledger: MemoryLedger;

  constructor(
    readonly clock: Clock,
    readonly retention: Retention = {},
  ) {
    this.ledger = new MemoryLedger(clock);
  }

  stream(key: string): MemoryStream {
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = new MemoryStream();
      this.#streams.set(key, stream);
    }
    return stream;
  }

  delayed(key: string): Delayed[] {
    let list = this.#delayed.get(key);
    if (!list) {
      list = [];
      this.#delayed.set(key, list);
    }
    return list;
  }

  appendFinding(swarm: string, finding: string): string {
    const stream = this.stream(keys.findings(swarm));
    const id = stream.append({ finding }, this.clock.now());
    stream.trim(this.retention.findings, this.clock.now());
    this.#ring(swarm);
    return id;
  }

  appendDeadLetter(swarm: string, fields: Fields): void {
    const stream = this.stream(keys.deadLetters(swarm));
    stream.append(fields, this.clock.now());
    stream.trim(this.retention.deadLetters, this.clock.now());
  }

  /** As counters.lua: adds to the swarm's `<type>:<event>` counter. */
  count(swarm: string, type: string, event: CounterEvent, n = 1): void {
    if (n <= 0) return;
    let counters = this.#counters.get(swarm);
    if (!counters) {
      counters = new Map();
      this.#counters.set(swarm, counters);
    }
    const field = counterField(type, event);
    counters.set(field, (counters.get(field) ?? 0) + n);
  }

  async readCounters(swarm: string): Promise<Record<string, string>> {
    return Object.fromEntries([...(this.#counters.get(swarm) ?? [])].map(([f, n]) => [f, String(n)]));
  }

  #ring(swarm: string): void {
    const listeners = this.#doorbells.get(swarm);
    // As a Redis pattern subscription maps a partition's channel back to its swarm.
    const logical = partitionOf(swarm).swarm;
    const watchers = [...this.#activity].filter((w) => w.matches(logical));
    if (!listeners && watchers.length === 0) return;
    queueMicrotask(() => {
      for (const listener of listeners ?? []) listener.next(undefined);
      for (const watcher of watchers) watcher.subscriber.next(logical);
    });
  }

  findingsActivity$(pattern: string): Observable<string> {
    const matches = swarmMatcher([pattern]);
    return new Observable<string>((subscriber) => {
      const watcher = { matches, subscriber };
      this.#activity.add(watcher);
      return () => this.#activity.delete(watcher);
    });
  }

  openQueue(swarm: string, type: string, consumer: string, leaseMs: number): TaskQueue {
    return new MemoryTaskQueue(this, swarm, type, consumer, leaseMs);
  }

  async leaseOf(swarm: string, type: string, consumer: string): Promise<number | undefined> {
    return this.stream(keys.tasks(swarm, type)).leases.get(consumer);
  }

  async append(swarm: string, type: string, tasks: string[]): Promise<void> {
    const stream = this.stream(keys.tasks(swarm, type));
    for (const task of tasks) stream.append({ task }, this.clock.now());
    this.count(swarm, type, 'posted', tasks.length);
  }

  async appendIdempotent(
    swarm: string,
    type: string,
    task: Fields,
    taskId: string,
    key: string,
    windowMs: number,
  ): Promise<{ posted: boolean; id: string }> {
    const name = keys.idempotency(swarm, key);
    const seen = this.#idempotency.get(name);
    if (seen && seen.expiresAt > this.clock.now()) return { posted: false, id: seen.id };
    this.stream(keys.tasks(swarm, type)).append(task, this.clock.now());
    this.#idempotency.set(name, { id: taskId, expiresAt: this.clock.now() + windowMs });
    this.count(swarm, type, 'posted');
    return { posted: true, id: taskId };
  }

  async readFindings(
    swarm: string,
    from: { after: string } | { start: string },
    count: number,
  ): Promise<RawEntry[]> {
    return this.stream(keys.findings(swarm))
      .range(from, count)
      .map((e) => ({ ...e, deliveries: 1 }));
  }

  async lastFindingId(swarm: string): Promise<string> {
    return this.stream(keys.findings(swarm)).lastId();
  }

  async publishFinding(swarm: string, finding: string): Promise<string> {
    return this.appendFinding(swarm, finding);
  }

  async readCursors(swarm: string): Promise<Record<string, string>> {
    return { ...this.#cursors.get(swarm) };
  }

  async putCursor(swarm: string, subscriber: string, id: string): Promise<void> {
    const cursors = this.#cursors.get(swarm) ?? {};
    cursors[subscriber] = id;
    this.#cursors.set(swarm, cursors);
  }

  async deleteCursor(swarm: string, subscriber: string): Promise<boolean> {
    const cursors = this.#cursors.get(swarm);
    if (!cursors || !Object.hasOwn(cursors, subscriber)) return false;
    delete cursors[subscriber];
    return true;
  }

  findingsDoorbell$(swarm: string): Observable<FindingsBroadcast | undefined> {
    return new Observable<FindingsBroadcast | undefined>((subscriber) => {
      let listeners = this.#doorbells.get(swarm);
      if (!listeners) {
        listeners = new Set();
        this.#doorbells.set(swarm, listeners);
      }
      listeners.add(subscriber);
      return () => listeners.delete(subscriber);
    });
  }

  async readDeadLetters(swarm: string, count: number): Promise<RawEntry[]> {
    return this.stream(keys.deadLetters(swarm))
      .range({ start: '-' }, count)
      .map((e) => ({ ...e, deliveries: 1 }));
  }

  async readDeadLetter(swarm: string, id: string): Promise<RawEntry | undefined> {
    const fields = this.stream(keys.deadLetters(swarm)).entries.get(id);
    return fields && { id, fields: { ...fields }, deliveries: 1 };
  }

  async moveDeadLetter(swarm: string, id: string, type: string, task: Fields): Promise<boolean> {
    if (!this.stream(keys.deadLetters(swarm)).delete(id)) return false;
    this.stream(keys.tasks(swarm, type)).append(task, this.clock.now());
    return true;
  }

  async purgeDeadLetters(swarm: string): Promise<number> {
    // A lookup, not stream(): purging a swarm that has no dead letters must not create it.
    const stream = this.#streams.get(keys.deadLetters(swarm));
    if (!stream) return 0;
    const ids = [...stream.entries.keys()];
    for (const id of ids) stream.delete(id);
    return ids.length;
  }

  async swarms(): Promise<string[]> {
    const names = new Set<string>();
    for (const key of [...this.#streams.keys(), ...this.#blobs.keys()]) {
      const swarm = keys.swarmOf(key);
      if (swarm) names.add(swarm);
    }
    for (const swarm of [...this.#shards.keys(), ...this.#partitions.keys()]) names.add(swarm);
    return [...names].sort();
  }

  async swarmsWithFindings(pattern: string): Promise<string[]> {
    const matches = swarmMatcher([pattern]);
    const names: string[] = [];
    for (const [key, stream] of this.#streams) {
      const swarm = keys.swarmOf(key);
      if (swarm && key.endsWith('}:findings') && stream.entries.size > 0 && matches(swarm)) names.push(swarm);
    }
    return [...new Set(names)].sort();
  }

  async putError(swarm: string, consumer: string, record: string | undefined): Promise<void> {
    const errors = this.#errors.get(swarm) ?? new Map<string, string>();
    this.#errors.set(swarm, errors);
    if (record === undefined) errors.delete(consumer);
    else errors.set(consumer, record);
  }

  async readErrors(swarm: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#errors.get(swarm) ?? []);
  }

  async putShard(swarm: string, id: string, info: string): Promise<void> {
    let shards = this.#shards.get(swarm);
    if (!shards) {
      shards = {};
      this.#shards.set(swarm, shards);
    }
    shards[id] = info;
  }

  async readPartitions(swarm: string): Promise<Record<string, number>> {
    return partitionCounts(this.#partitions.get(swarm) ?? {});
  }

  async putPartitions(swarm: string, type: string, partitions: number): Promise<void> {
    this.#partitions.set(swarm, { ...this.#partitions.get(swarm), [type]: String(partitions) });
  }

  async readShards(swarm: string): Promise<Record<string, string>> {
    return { ...this.#shards.get(swarm) };
  }

  async status(swarm: string): Promise<{ types: TaskTypeStatus[]; findings: number; deadLetters: number }> {
    const prefix = keys.tasks(swarm, '');
    const now = this.clock.now();
    const types: TaskTypeStatus[] = [];
    for (const [key, stream] of [...this.#streams].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!key.startsWith(prefix)) continue;
      const type = key.slice(prefix.length);
      const waiting = [...stream.scan({ after: stream.lastDelivered })];
      const oldest = [...stream.entries.keys()][0];
      const consumers = new Set([
        ...stream.consumers.keys(),
        ...[...stream.pending.values()].map((p) => p.consumer),
      ]);
      types.push({
        type,
        waiting: waiting.length,
        inFlight: stream.pending.size,
        delayed: this.delayed(keys.delayed(swarm, type)).length,
        consumers: consumers.size,
        oldestAgeMs: oldest ? Math.max(0, now - Number(oldest.split('-')[0])) : 0,
      });
    }
    return {
      types,
      findings: this.stream(keys.findings(swarm)).entries.size,
      deadLetters: this.stream(keys.deadLetters(swarm)).entries.size,
    };
  }

  async putBlob(swarm: string, ref: string, parts: Map<string, Buffer>): Promise<void> {
    const key = keys.context(swarm, ref);
    const blob = this.#blobs.get(key) ?? new Map<string, Buffer>();
    for (const [name, value] of parts) blob.set(name, Buffer.from(value));
    this.#blobs.set(key, blob);
  }

  async getBlob(swarm: string, ref: string): Promise<Map<string, Buffer> | undefined> {
    const blob = this.#blobs.get(keys.context(swarm, ref));
    return blob && new Map(blob);
  }

  /** Test access to a stored blob, e.g. to delete a chunk. */
  blob(swarm: string, ref: string): Map<string, Buffer> | undefined {
    return this.#blobs.get(keys.context(swarm, ref));
  }

  /** Nothing to release: the data lives as long as the transport object, which buses may share. */
  async close(): Promise<void> {}
}

class MemoryTaskQueue implements TaskQueue {
  readonly #stream: MemoryStream;
  readonly #delayedKey: string;
  #cancelWait: (() => void) | undefined;

  constructor(
    private readonly transport: MemoryTransport,
    private readonly swarm: string,
    private readonly type: string,
    private readonly consumer: string,
    private readonly leaseMs: number,
  ) {
    this.#stream = transport.stream(keys.tasks(swarm, type));
    this.#delayedKey = keys.delayed(swarm, type);
  }

  get #now(): number {
    return this.transport.clock.now();
  }

  async ensureGroup(): Promise<void> {
    this.#stream.leases.set(this.consumer, this.leaseMs);
  }

  #takeNew(count: number): RawEntry[] {
    const out: RawEntry[] = [];
    for (const [id, fields] of this.#stream.scan({ after: this.#stream.lastDelivered })) {
      if (out.length >= count) break;
      this.#stream.lastDelivered = id;
      this.#stream.pending.set(id, { consumer: this.consumer, deliveredAt: this.#now, deliveries: 1 });
      out.push({ id, fields: { ...fields }, deliveries: 1 });
    }
    if (out.length > 0) {
      this.#seen(true);
      this.#stream.leases.set(this.consumer, this.leaseMs);
    }
    return out;
  }

  /** As in Redis 7.0: a consumer exists once it has been handed an entry; each read refreshes it. */
  #seen(handed = false): void {
    if (handed || this.#stream.consumers.has(this.consumer))
      this.#stream.consumers.set(this.consumer, this.#now);
  }

  async readNew(count: number, blockMs: number): Promise<RawEntry[]> {
    this.#seen();
    const ready = this.#takeNew(count);
    if (ready.length > 0) return ready;
    const { promise, cancel } = this.#stream.waitForAppend();
    const timer = this.transport.clock.setTimeout(cancel, blockMs);
    this.#cancelWait = cancel;
    await promise;
    this.transport.clock.clearTimeout(timer);
    this.#cancelWait = undefined;
    return this.#takeNew(count);
  }

  async readOwnPending(count: number): Promise<RawEntry[]> {
    this.#seen();
    const out: RawEntry[] = [];
    for (const [id, p] of this.#stream.pending) {
      const fields = this.#stream.entries.get(id);
      if (p.consumer === this.consumer && fields && out.length < count)
        out.push({ id, fields: { ...fields }, deliveries: p.deliveries });
    }
    return out;
  }

  takeMissedDeliveries(): boolean {
    return false;
  }

  async reclaim(count: number, maxAttempts: number): Promise<RawEntry[]> {
    const out: RawEntry[] = [];
    const now = this.#now;
    this.#stream.leases.set(this.consumer, this.leaseMs);
    const longest = Math.max(...this.#stream.leases.values());
    for (const [id, p] of [...this.#stream.pending]) {
      if (out.length >= count) break;
      // Each owner's deliveries are held to its own lease, one with no record to the longest, as in reclaim.lua.
      if (now - p.deliveredAt < (this.#stream.leases.get(p.consumer) ?? longest)) continue;
      const fields = this.#stream.entries.get(id);
      if (!fields) {
        this.#stream.pending.delete(id);
        continue;
      }
      p.consumer = this.consumer;
      p.deliveredAt = now;
      p.deliveries++;
      const history = taskHistoryOf(fields);
      if (history && history.attempt + p.deliveries - 1 > maxAttempts) {
        const failed = history.attempt + p.deliveries - 2;
        const errors = [
          ...history.errors,
          { attempt: failed, message: 'lease expired: the worker died or stalled', at: now },
        ];
        this.transport.appendDeadLetter(
          this.swarm,
          encodeDeadLetter(
            this.type,
            `lease expired on attempt ${failed} of ${maxAttempts}`,
            errors,
            fields,
            now,
          ),
        );
        this.#remove(id);
        this.transport.count(this.swarm, this.type, 'dead');
        continue;
      }
      out.push({ id, fields: { ...fields }, deliveries: p.deliveries });
    }
    this.transport.count(this.swarm, this.type, 'reclaimed', out.length);
    return out;
  }

  async renew(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    this.#stream.leases.set(this.consumer, this.leaseMs);
    const lost: string[] = [];
    for (const id of ids) {
      const p = this.#stream.pending.get(id);
      if (p && p.consumer === this.consumer) p.deliveredAt = this.#now;
      else lost.push(id);
    }
    return lost;
  }

  async inspect(entryId: string): Promise<PendingEntry | undefined> {
    const pending = this.#stream.pending.get(entryId);
    const fields = this.#stream.entries.get(entryId);
    if (!pending || !fields) return undefined;
    return { owner: pending.consumer, deliveries: pending.deliveries, fields: { ...fields } };
  }

  /** Only the owner may retry or bury a delivery (see owned-by.lua). */
  #ownsPending(entryId: string): boolean {
    return this.#stream.pending.get(entryId)?.consumer === this.consumer;
  }

  #settle(entryId: string): boolean {
    if (!this.#stream.pending.has(entryId)) return false;
    this.#remove(entryId);
    return true;
  }

  #remove(entryId: string): void {
    this.#stream.delete(entryId);
  }

  async complete(
    entryId: string,
    finding: string,
    options: { owned?: boolean } = {},
  ): Promise<string | null | 'lost'> {
    if (options.owned && !this.#ownsPending(entryId))
      return this.#stream.pending.has(entryId) ? 'lost' : null;
    if (!this.#settle(entryId)) return null;
    this.transport.count(this.swarm, this.type, 'completed');
    this.transport.count(this.swarm, this.type, 'costUsd', costOf(finding));
    return this.transport.appendFinding(this.swarm, finding);
  }

  async retry(entryId: string, next: Fields, delayMs: number): Promise<boolean> {
    const was = attemptOf(this.#stream.entries.get(entryId));
    if (!this.#ownsPending(entryId) || !this.#settle(entryId)) return false;
    // Handing back unworked keeps the attempt: only a next attempt is a failed one, as in retry.lua.
    const becomes = attemptOf(next);
    if (was !== undefined && becomes !== undefined && becomes > was)
      this.transport.count(this.swarm, this.type, 'failed');
    if (delayMs <= 0) this.#stream.append(next, this.#now);
    else this.transport.delayed(this.#delayedKey).push({ dueAt: this.#now + delayMs, fields: next });
    return true;
  }

  async deadLetter(entryId: string, dead: Fields): Promise<boolean> {
    if (!this.#ownsPending(entryId) || !this.#settle(entryId)) return false;
    this.transport.appendDeadLetter(this.swarm, dead);
    this.transport.count(this.swarm, this.type, 'failed');
    this.transport.count(this.swarm, this.type, 'dead');
    return true;
  }

  async pruneIdleConsumers(idleMs: number): Promise<number> {
    const owners = new Set([...this.#stream.pending.values()].map((p) => p.consumer));
    let removed = 0;
    for (const [name, seen] of this.#stream.consumers)
      if (name !== this.consumer && !owners.has(name) && this.#now - seen >= idleMs) {
        this.#stream.consumers.delete(name);
        this.#stream.leases.delete(name);
        removed++;
      }
    return removed;
  }

  async promoteDue(): Promise<number> {
    const list = this.transport.delayed(this.#delayedKey);
    const now = this.#now;
    list.sort((a, b) => a.dueAt - b.dueAt);
    while (list[0] && list[0].dueAt <= now) this.#stream.append((list.shift() as Delayed).fields, now);
    return list[0] ? Math.max(1, list[0].dueAt - now) : -1;
  }

  interrupt(): void {
    this.#cancelWait?.();
  }

  async close(): Promise<void> {
    this.interrupt();
    const owns = [...this.#stream.pending.values()].some((p) => p.consumer === this.consumer);
    if (owns) return;
    this.#stream.consumers.delete(this.consumer);
    this.#stream.leases.delete(this.consumer);
  }
}

/** The attempt a task entry's `task` field records, as counters.lua reads it. */
function attemptOf(fields: Fields | undefined): number | undefined {
  try {
    const attempt = (JSON.parse(fields?.task ?? '') as { attempt?: unknown }).attempt;
    return typeof attempt === 'number' ? attempt : undefined;
  } catch {
    return undefined;
  }
}

/** A finding's `usage.costUsd` when it is a positive number, as complete.lua reads it; else 0. */
function costOf(finding: string): number {
  if (!finding.includes('"costUsd"')) return 0;
  try {
    const usd = (JSON.parse(finding) as { usage?: { costUsd?: unknown } }).usage?.costUsd;
    return typeof usd === 'number' && usd > 0 && Number.isFinite(usd) ? usd : 0;
  } catch {
    return 0;
  }
}
