import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { Clock } from '../clock';
import type { ContextStore, ContextStoreOptions } from '../context/context-store';
import type { Ledger } from '../ledger/ledger';
import type {
  DeadLetter,
  Finding,
  FindingInput,
  PostedTask,
  PublishInput,
  ShardInfo,
  SwarmStatus,
  Task,
  TaskInput,
} from '../messages';
import type { FollowOptions } from '../subscription/follow';
import type { BackoffOptions } from './backoff';
import type { BusEvents } from './bus-events';
import type { Claim, ClaimFailure, ClaimOptions, ClaimRelease, ClaimRenewal, ClaimReport } from './claims';
import type { TaskCounters } from './counters';
import type { Delivery } from './delivery';
import type { DurabilityOption } from './durability';
import type { FindingsFrom } from './findings-reader';
import type { Slots } from './slots';
import type { Retention } from './transport';

/** The bus: what every actor, worker and shard talks to; TransportBus implements it over a transport. */

export interface BusOptions {
  logger?: Logger;
  /** Largest description + data of one task, in bytes (default 1 MiB). */
  maxPayloadBytes?: number;
  /** How long an idempotency key is remembered (default 24 h). */
  idempotencyWindowMs?: number;
  retention?: Retention;
  context?: ContextStoreOptions;
  /**
   * Replicas that must hold a post or a completion before it is acknowledged (Redis WAIT), for
   * every swarm or per swarm. The in-process bus has no replicas and ignores it.
   */
  durability?: DurabilityOption;
  /** Told of this bus's own posts, deliveries, settlements and reclaims (a process's metrics). */
  events?: BusEvents;
}

export interface ConsumeOptions {
  /** Unique per live consumer; defaults to host-pid-random. */
  consumer?: string;
  /**
   * Most deliveries whose handler has not yet completed or failed them (default 1). A slot frees
   * when complete/fail is called, so the next read overlaps that settlement's round trip.
   */
  concurrency?: number;
  /** A delivery not settled or renewed within this is reclaimed by another consumer (default 30 s). */
  leaseMs?: number;
  /** Deliveries before a task is dead-lettered, crashes included (default 5). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Longest single blocking read (default 1 s); bounds how long a stop or reclaim waits. */
  blockMs?: number;
  /**
   * Slots shared with other consumers (a pool's own type and the assist queue): this one reads
   * only while a slot is free. A consumer may overshoot by what one in-flight read returns.
   */
  slots?: Slots;
  /**
   * Declares the type's number of partitions in the swarm (`swarm:{S}:partitions`), as a worker
   * pool does with its topology's `partitions`; without it the consumer reads what is declared
   * (1 when nothing is). With N > 1 it reads every partition (docs/SCALING.md).
   */
  partitions?: number;
}

export interface FindingsOptions {
  from?: FindingsFrom;
}

export interface Bus {
  post(swarm: string, type: string, task: TaskInput): Promise<PostedTask>;
  postBatch(swarm: string, type: string, tasks: TaskInput[]): Promise<PostedTask[]>;
  /** Cold: each subscription is one consumer. Unsubscribing drains: running deliveries keep their leases. */
  consume(swarm: string, type: string, options?: ConsumeOptions): Observable<Delivery>;
  /**
   * Claims one task for a worker outside any consumer loop (an agent, a script, another process),
   * or answers undefined when none came within `waitMs`. Nothing renews the claim: it holds its
   * task for `leaseMs` (default 10 minutes), then another worker may take it over.
   */
  claim(swarm: string, type: string, options?: ClaimOptions): Promise<Claim | undefined>;
  /** Completes a claim with a finding, exactly once; `settled` or `lost` when it writes nothing. */
  report(handle: string, finding: FindingInput): Promise<ClaimReport>;
  /** Renews a claim's lease (to `leaseMs` when given); `settled` or `lost` when it no longer holds its task. */
  renewClaim(handle: string, options?: { leaseMs?: number }): Promise<ClaimRenewal>;
  /** Gives a claimed task back unworked: at once, at the same attempt, no error recorded. */
  releaseClaim(handle: string): Promise<ClaimRelease>;
  /** Fails a claim: retried with backoff, or dead-lettered at `maxAttempts` (default 5) or with `retry: false`. */
  failClaim(
    handle: string,
    error: string,
    options?: { retry?: boolean; maxAttempts?: number },
  ): Promise<ClaimFailure>;
  /** Cold: replays from `from` (default 'start'), then tails live. */
  findings$(swarm: string, options?: FindingsOptions): Observable<Finding>;
  /**
   * Findings of several swarms (names or patterns), filtered, ordered per source swarm. With a
   * `name` the subscription is durable: it resumes after a restart where it stopped.
   */
  follow(options: FollowOptions): Observable<Finding>;
  /** Appends a finding that no task produced (an actor's output); it is broadcast like any other. */
  publish(swarm: string, finding: PublishInput): Promise<Finding>;
  /** Id of the newest finding of a swarm ('0-0' when none): read after it to see only what comes next. */
  lastFindingId(swarm: string): Promise<string>;
  /** Durable subscribers of a swarm's findings and their cursors. */
  cursors(swarm: string): Promise<Record<string, string>>;
  /**
   * Forgets a durable subscriber: its cursor is removed, so a subscriber of that name starts
   * afresh. False when the swarm had no such subscriber.
   */
  forgetSubscriber(swarm: string, subscriber: string): Promise<boolean>;
  /** A page of stored findings, oldest first. */
  readFindings(swarm: string, options?: { after?: string; count?: number }): Promise<Finding[]>;
  deadLetters(swarm: string, options?: { count?: number }): Promise<DeadLetter[]>;
  /** Every swarm with data on this transport. */
  swarms(): Promise<string[]>;
  /** Records a shard's state (context version, finding cursor) so a restart resumes from it. */
  registerShard(swarm: string, info: ShardInfo): Promise<void>;
  shards(swarm: string): Promise<ShardInfo[]>;
  /**
   * The swarm's partitioned task types and their number of partitions (`swarm:{S}:partitions`;
   * a type not listed has one). See docs/SCALING.md.
   */
  partitions(swarm: string): Promise<Record<string, number>>;
  /** Declares a task type's number of partitions, as a worker pool does when it starts. */
  declarePartitions(swarm: string, type: string, partitions: number): Promise<void>;
  /** Queue depths per task type, findings and dead letters kept, and the swarm's shards. */
  status(swarm: string): Promise<SwarmStatus>;
  /** What every process did to the swarm's tasks, per type, ever (posted, completed, failed, ...). */
  counters(swarm: string): Promise<TaskCounters[]>;
  /** Moves a dead letter back onto its task stream as a fresh attempt 1; returns the task. */
  retryDeadLetter(swarm: string, id: string): Promise<Task>;
  /** Removes every dead letter of a swarm; returns how many there were. */
  purgeDeadLetters(swarm: string): Promise<number>;
  readonly context: ContextStore;
  /** Budgets and rate limits every process of a swarm shares (model workers reserve against them). */
  readonly ledger: Ledger;
  /** The time leases, backoff and polling run on (a ManualClock on a test MemoryBus). */
  readonly clock: Clock;
  /** Resolves once every durable subscriber's last cursor is stored. */
  flush(): Promise<void>;
  /** Resolves when every consumer of this bus has drained (see consume). */
  drain(): Promise<void>;
  close(): Promise<void>;
}
