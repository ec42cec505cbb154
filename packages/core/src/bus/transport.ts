import type { Observable } from 'rxjs';
import type { Fields } from '../codec';
import { MAX_PARTITIONS } from '../keys';
import type { LedgerStore } from '../ledger/ledger';
import type { Finding, TaskTypeStatus } from '../messages';

/**
 * What a transport must provide; the Bus builds everything else on top. RedisTransport
 * implements it with Lua scripts, MemoryTransport in plain JS with the same semantics,
 * and one conformance suite (test/conformance) holds them to it.
 */

export interface RawEntry {
  id: string;
  fields: Fields;
  /** How many times the stream has handed this entry out, this time included. */
  deliveries: number;
}

export interface FindingsBroadcast {
  /** Id of the finding just before these ('0-0' for none). */
  prev: string;
  findings: Finding[];
}

export type TrimKind = '' | 'MAXLEN' | 'MAXAGE';

export interface StreamBound {
  /** Keep at most this many entries. */
  maxLen?: number;
  /** Drop entries older than this many ms. */
  maxAgeMs?: number;
}

export interface Retention {
  findings?: StreamBound;
  deadLetters?: StreamBound;
}

export function trimOf(bound: StreamBound | undefined): [TrimKind, string] {
  if (bound?.maxLen !== undefined) return ['MAXLEN', String(bound.maxLen)];
  if (bound?.maxAgeMs !== undefined) return ['MAXAGE', String(bound.maxAgeMs)];
  return ['', ''];
}

/**
 * The partitions hash as stored, read leniently: a field someone else wrote that is not a
 * whole number from 1 to 256 counts as one partition, the layout every older process assumes.
 */
export function partitionCounts(hash: Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [type, value] of Object.entries(hash)) {
    const n = Number(value);
    counts[type] = Number.isInteger(n) && n >= 1 && n <= MAX_PARTITIONS ? n : 1;
  }
  return counts;
}

/** Where a pending entry stands: who owns it, and how often it has been handed out. */
export interface PendingEntry {
  owner: string;
  deliveries: number;
  fields: Fields;
}

/**
 * One consumer's view of one (swarm, type) task stream and its consumer group. The consumer holds
 * every delivery for its lease: others reclaim one only after it has gone that long unrenewed.
 */
export interface TaskQueue {
  /** Creates the group if need be, and records this consumer's lease for reclaimers to honour. */
  ensureGroup(): Promise<void>;
  /** Waits up to blockMs for entries never delivered before. */
  readNew(count: number, blockMs: number): Promise<RawEntry[]>;
  /** Entries this consumer was handed but may not know of (a reply lost to a dropped connection). */
  readOwnPending(count: number): Promise<RawEntry[]>;
  /** True once after a reconnect or a replaced connection: time to call readOwnPending. */
  takeMissedDeliveries(): boolean;
  /**
   * Claims deliveries whose owner's lease expired (this consumer's lease for owners that recorded
   * none); entries past maxAttempts are dead-lettered by the transport.
   */
  reclaim(count: number, maxAttempts: number): Promise<RawEntry[]>;
  /** Renews leases (and records this consumer's lease again); returns the ids it no longer owns. */
  renew(ids: string[]): Promise<string[]>;
  /** The pending entry `entryId`, or undefined when it is settled (or was never handed out). */
  inspect(entryId: string): Promise<PendingEntry | undefined>;
  /**
   * `finding` is the finding as JSON without its id; returns the finding id, or null when already
   * settled. With `owned`, refused (`lost`) in the same step when this consumer no longer holds it.
   */
  complete(entryId: string, finding: string, options?: { owned?: boolean }): Promise<string | null | 'lost'>;
  retry(entryId: string, next: Fields, delayMs: number): Promise<boolean>;
  deadLetter(entryId: string, dead: Fields): Promise<boolean>;
  /** Moves due retries onto the stream; returns ms until the next is due, or -1. */
  promoteDue(): Promise<number>;
  /** Forgets other consumers that own nothing and were not seen for idleMs; returns how many. */
  pruneIdleConsumers(idleMs: number): Promise<number>;
  /** Ends a blocked readNew early, with no entries. */
  interrupt(): void;
  /** Forgets this consumer (and its lease) if it owns nothing, and frees its connection. */
  close(): Promise<void>;
}

export interface Transport {
  /** Where budgets and rate limits are kept (see ledger/ledger.ts). */
  readonly ledger: LedgerStore;
  openQueue(swarm: string, type: string, consumer: string, leaseMs: number): TaskQueue;
  /** The lease `consumer` recorded for its deliveries of (swarm, type), if any. */
  leaseOf(swarm: string, type: string, consumer: string): Promise<number | undefined>;
  /** Appends encoded tasks (the `task` field's JSON), in order. */
  append(swarm: string, type: string, tasks: string[]): Promise<void>;
  appendIdempotent(
    swarm: string,
    type: string,
    task: Fields,
    taskId: string,
    key: string,
    windowMs: number,
  ): Promise<{ posted: boolean; id: string }>;
  /** Findings after `afterId` (exclusive) or from `startId` (inclusive), oldest first. */
  readFindings(
    swarm: string,
    from: { after: string } | { start: string },
    count: number,
  ): Promise<RawEntry[]>;
  lastFindingId(swarm: string): Promise<string>;
  /** Appends and broadcasts a finding no task produced (`finding` is JSON without its id); returns its id. */
  publishFinding(swarm: string, finding: string): Promise<string>;
  /** Durable subscribers' cursors into this swarm's findings: name → last finding id taken. */
  readCursors(swarm: string): Promise<Record<string, string>>;
  putCursor(swarm: string, subscriber: string, id: string): Promise<void>;
  /** Removes a durable subscriber's cursor; false when it had none. */
  deleteCursor(swarm: string, subscriber: string): Promise<boolean>;
  /**
   * Emits when new findings may exist, and after any reconnect (a doorbell may have been missed).
   * A broadcast that carries the findings themselves, with the id of the finding before them,
   * lets an up-to-date reader skip the read.
   */
  findingsDoorbell$(swarm: string): Observable<FindingsBroadcast | undefined>;
  /**
   * Emits the name of a swarm matching the glob each time findings are broadcast in it, so a
   * pattern subscription opens a new swarm at once (at-most-once, like any broadcast).
   */
  findingsActivity$(pattern: string): Observable<string>;
  readDeadLetters(swarm: string, count: number): Promise<RawEntry[]>;
  readDeadLetter(swarm: string, id: string): Promise<RawEntry | undefined>;
  /** Removes the dead letter and appends `task` to its stream; false if it was gone. */
  moveDeadLetter(swarm: string, id: string, type: string, task: Fields): Promise<boolean>;
  /** Removes every dead letter of a swarm in one step; returns how many it removed. */
  purgeDeadLetters(swarm: string): Promise<number>;
  /** Names of the swarms that have any key. */
  swarms(): Promise<string[]>;
  /** Names of the swarms matching a glob that have a findings stream: what a pattern can follow. */
  swarmsWithFindings(pattern: string): Promise<string[]>;
  /** Records (JSON) or clears what keeps failing for one consumer, for status to show. */
  putError(swarm: string, consumer: string, record: string | undefined): Promise<void>;
  /** Consumer → its RepeatedError record as JSON. */
  readErrors(swarm: string): Promise<Record<string, string>>;
  /** The swarm's partitions hash (keys.partitions): task type → N, for the types declared partitioned. */
  readPartitions(swarm: string): Promise<Record<string, number>>;
  /** Declares how many partitions a task type's streams have (a worker pool does, as it starts). */
  putPartitions(swarm: string, type: string, partitions: number): Promise<void>;
  putShard(swarm: string, id: string, info: string): Promise<void>;
  /** Shard id → its ShardInfo as JSON. */
  readShards(swarm: string): Promise<Record<string, string>>;
  /** Queue depths per task type, and the lengths of the findings and dead-letter streams. */
  status(swarm: string): Promise<{ types: TaskTypeStatus[]; findings: number; deadLetters: number }>;
  /** The swarm's counters hash as stored: `<type>:<event>` → count (see counters.ts). */
  readCounters(swarm: string): Promise<Record<string, string>>;
  putBlob(swarm: string, ref: string, parts: Map<string, Buffer>): Promise<void>;
  getBlob(swarm: string, ref: string): Promise<Map<string, Buffer> | undefined>;
  close(): Promise<void>;
}
