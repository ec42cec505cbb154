import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Span } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { Observable, type Subscriber } from 'rxjs';
import { type Clock, type ClockTimer, systemClock } from '../clock';
import { encodeTask, type Fields, MAX_DATA_DEPTH, nestedDeeperThan } from '../codec';
import { ChunkedContextStore, type ContextStore } from '../context/context-store';
import { BusClosedError, InvalidTaskError, PayloadTooLargeError } from '../errors';
import { assertName, partitionName } from '../keys';
import { type Ledger, ledgerOver } from '../ledger/ledger';
import type {
  DeadLetter,
  Finding,
  FindingInput,
  PostedTask,
  PublishInput,
  RepeatedError,
  ShardInfo,
  SwarmStatus,
  Task,
  TaskInput,
} from '../messages';
import { type FollowOptions, follow$ } from '../subscription/follow';
import {
  activeTraceId,
  recordSpanError,
  startPostSpan,
  type TraceCarrier,
  traceCarrierOf,
} from '../tracing/task-trace';
import { defaultBackoff } from './backoff';
import type { Bus, BusOptions, ConsumeOptions, FindingsOptions } from './bus';
import type { BusEvents } from './bus-events';
import {
  type Claim,
  type ClaimDeps,
  type ClaimFailure,
  type ClaimOptions,
  type ClaimRelease,
  type ClaimRenewal,
  type ClaimReport,
  claimFromPartitions,
  claimTask,
  failClaim,
  releaseClaim,
  renewClaim,
  reportClaim,
} from './claims';
import { Consumer } from './consumer';
import { countersFromHash, type TaskCounters } from './counters';
import type { Delivery } from './delivery';
import { PartitionTable } from './partition-table';
import { partitionedFindings$ } from './partitioned-findings';
import { currentErrors } from './repeated-errors';
import { tagsOf } from './settlement';
import { Slots } from './slots';
import { assertPartitions, SwarmPartitions } from './swarm-partitions';
import type { Transport } from './transport';

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const DEFAULT_IDEMPOTENCY_WINDOW = 24 * 60 * 60 * 1000;
/** How often a consumer looks for partitions of its type declared since it started. */
const PARTITIONS_WATCH_MS = 3_000;

/**
 * host-pid-random, always a valid name: the host name keeps only name characters and is cut so
 * the whole fits 64 (a container's long or dotted host name must not make every claim fail).
 */
export function defaultConsumerName(): string {
  const suffix = `-${process.pid}-${randomUUID().slice(0, 8)}`;
  const host = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return `${host || 'host'}`.slice(0, 64 - suffix.length) + suffix;
}

/** The bus over any transport: RedisBus and MemoryBus differ only in the transport they pass. */
export class TransportBus implements Bus {
  readonly context: ContextStore;
  readonly ledger: Ledger;
  protected readonly log: Logger;
  readonly #consumers = new Set<Consumer>();
  /** Writes that must land before the transport closes (durable subscribers' last cursors). */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #maxPayload: number;
  readonly #idempotencyWindow: number;
  readonly #events: BusEvents | undefined;
  /** Where posts go, and the swarm-wide reads over the partitions (docs/SCALING.md). */
  readonly #swarms: SwarmPartitions;
  #closed = false;

  constructor(
    protected readonly transport: Transport,
    readonly clock: Clock = systemClock,
    options: BusOptions = {},
  ) {
    this.log = options.logger ?? pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
    this.context = new ChunkedContextStore(transport, options.context);
    this.ledger = ledgerOver(transport.ledger);
    this.#maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD;
    this.#idempotencyWindow = options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW;
    this.#events = options.events;
    this.#swarms = new SwarmPartitions(transport, new PartitionTable(transport, clock));
  }

  #assertOpen(): void {
    if (this.#closed) throw new BusClosedError();
  }

  /** Builds and encodes a task; the size limit applies to the encoded task. */
  #toTask(
    swarm: string,
    type: string,
    input: TaskInput,
    trace: TraceCarrier | undefined,
  ): { task: Task; fields: Fields } {
    if (input === null || typeof input !== 'object') throw new InvalidTaskError('a task must be an object');
    if (input.description !== undefined && typeof input.description !== 'string')
      throw new InvalidTaskError('task description must be a string');
    if (nestedDeeperThan(input.data, MAX_DATA_DEPTH))
      throw new InvalidTaskError(`task data is nested deeper than ${MAX_DATA_DEPTH} levels`);
    const task: Task = {
      id: input.id ?? randomUUID(),
      swarm,
      type,
      description: input.description ?? '',
      data: input.data ?? null,
      parent: input.parent,
      context: input.context,
      attempt: 1,
      createdAt: this.clock.now(),
      idempotencyKey: input.idempotencyKey,
      errors: [],
    };
    if (input.deadline !== undefined) {
      if (!Number.isSafeInteger(input.deadline) || input.deadline < 0)
        throw new InvalidTaskError('task deadline must be epoch milliseconds');
      task.deadline = input.deadline;
    }
    if (trace !== undefined) task.trace = trace;
    const fields = encodeTask(task);
    const size = Buffer.byteLength(fields.task as string);
    if (size > this.#maxPayload) throw new PayloadTooLargeError(size, this.#maxPayload);
    return { task, fields };
  }

  async post(swarm: string, type: string, input: TaskInput): Promise<PostedTask> {
    this.#assertOpen();
    assertName('swarm', swarm);
    assertName('task type', type);
    // Each post is a producer span, and the task carries its context for the worker's span to link to.
    const span = startPostSpan(swarm, type);
    try {
      const { task, fields } = this.#toTask(swarm, type, input, traceCarrierOf(span));
      span.setAttribute('messaging.message.id', task.id);
      if (task.idempotencyKey === undefined) {
        await this.transport.append(await this.#swarms.postTarget(swarm, type), type, [
          fields.task as string,
        ]);
        this.#events?.posted?.(swarm, type, 1);
        return { id: task.id, duplicate: false };
      }
      const posted = await this.#postIdempotent(task, task.idempotencyKey, fields);
      if (posted.duplicate) span.setAttribute('swarm.task.duplicate', true);
      return posted;
    } catch (error) {
      recordSpanError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  async #postIdempotent(task: Task, idempotencyKey: string, fields: Fields): Promise<PostedTask> {
    const { posted, id } = await this.transport.appendIdempotent(
      await this.#swarms.postTarget(task.swarm, task.type, idempotencyKey),
      task.type,
      fields,
      task.id,
      idempotencyKey,
      this.#idempotencyWindow,
    );
    if (posted) this.#events?.posted?.(task.swarm, task.type, 1);
    return { id, duplicate: !posted };
  }

  async postBatch(swarm: string, type: string, inputs: TaskInput[]): Promise<PostedTask[]> {
    this.#assertOpen();
    assertName('swarm', swarm);
    assertName('task type', type);
    // One producer span per task, as post makes: each task is linked to by its own worker's span.
    const spans: Span[] = [];
    try {
      const built = inputs.map((input) => {
        const span = startPostSpan(swarm, type);
        spans.push(span);
        const one = this.#toTask(swarm, type, input, traceCarrierOf(span));
        span.setAttribute('messaging.message.id', one.task.id);
        return one;
      });
      const plain = built.filter(({ task }) => task.idempotencyKey === undefined);
      if (plain.length > 0) {
        const split = await this.#swarms.split(
          swarm,
          type,
          plain.map(({ fields }) => fields.task as string),
        );
        await Promise.all([...split].map(([name, tasks]) => this.transport.append(name, type, tasks)));
        this.#events?.posted?.(swarm, type, plain.length);
      }
      const results: PostedTask[] = [];
      for (const { task, fields } of built) {
        if (task.idempotencyKey === undefined) results.push({ id: task.id, duplicate: false });
        else results.push(await this.#postIdempotent(task, task.idempotencyKey, fields));
      }
      return results;
    } catch (error) {
      for (const span of spans) recordSpanError(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
  }

  consume(swarm: string, type: string, options: ConsumeOptions = {}): Observable<Delivery> {
    assertName('swarm', swarm);
    assertName('task type', type);
    const consumer = options.consumer ?? defaultConsumerName();
    assertName('consumer', consumer);
    const settings = {
      consumer,
      concurrency: Math.max(1, options.concurrency ?? 1),
      leaseMs: Math.max(10, options.leaseMs ?? 30_000),
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      backoff: options.backoff ?? defaultBackoff,
      blockMs: Math.max(1, options.blockMs ?? 1_000),
      slots: options.slots,
      events: this.#events,
    };
    const declared = options.partitions;
    if (declared !== undefined) assertPartitions(declared);
    return new Observable<Delivery>((subscriber) => {
      this.#assertOpen();
      const engines: Consumer[] = [];
      let stopped = false;
      let watch: ClockTimer | undefined;
      // Shared by the partitions' consumers, so together they never run more than `concurrency`.
      const slots = settings.slots ?? new Slots(settings.concurrency);
      const openUpTo = (partitions: number) => {
        if (stopped || subscriber.closed || partitions <= engines.length) return;
        // One consumer per partition (docs/SCALING.md, Workers over partitions), each reading its
        // share of the concurrency at a time.
        const share = { ...settings, concurrency: Math.ceil(settings.concurrency / partitions), slots };
        for (let p = engines.length; p < partitions; p++)
          engines.push(this.#startConsumer(partitionName(swarm, p), swarm, type, share, subscriber));
      };
      // Partitions declared later are read too: none is left without a reader until a restart.
      const watchPartitions = () => {
        watch = this.clock.setTimeout(() => {
          this.#swarms.table.of(swarm, type).then(openUpTo, () => {});
          watchPartitions();
        }, PARTITIONS_WATCH_MS);
      };
      const partitions =
        declared === undefined
          ? this.#swarms.table.of(swarm, type)
          : this.#swarms.table.declare(swarm, type, declared).then(() => declared);
      partitions.then(
        (n) => {
          openUpTo(n);
          if (!stopped) watchPartitions();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        stopped = true;
        if (watch) this.clock.clearTimeout(watch);
        for (const engine of engines) engine.stop().finally(() => this.#consumers.delete(engine));
      };
    });
  }

  /** A consumer of one partition's stream (`name`) whose deliveries belong to `swarm`. */
  #startConsumer(
    name: string,
    swarm: string,
    type: string,
    settings: ConstructorParameters<typeof Consumer>[3],
    subscriber: Subscriber<Delivery>,
  ): Consumer {
    const { consumer } = settings;
    const queue = this.transport.openQueue(name, type, consumer, settings.leaseMs);
    const log = this.log.child({ swarm: name, type, consumer });
    const engine = new Consumer(queue, swarm, type, settings, this.clock, log, (state) => {
      const record = state && JSON.stringify({ consumer, type, ...state } satisfies RepeatedError);
      this.transport
        .putError(swarm, consumer, record)
        .catch((error: unknown) => log.debug({ err: String(error) }, 'could not record the repeated error'));
    });
    this.#consumers.add(engine);
    engine.start(subscriber);
    return engine;
  }

  get #claims(): ClaimDeps {
    return {
      transport: this.transport,
      clock: this.clock,
      log: this.log,
      defaultConsumer: defaultConsumerName,
    };
  }

  async claim(swarm: string, type: string, options: ClaimOptions = {}): Promise<Claim | undefined> {
    this.#assertOpen();
    assertName('swarm', swarm);
    assertName('task type', type);
    const partitions = await this.#swarms.table.of(swarm, type);
    if (partitions > 1) return claimFromPartitions(this.#claims, swarm, type, partitions, options);
    return claimTask(this.#claims, swarm, type, options);
  }

  report(handle: string, finding: FindingInput): Promise<ClaimReport> {
    this.#assertOpen();
    return reportClaim(this.#claims, handle, finding);
  }

  renewClaim(handle: string, options: { leaseMs?: number } = {}): Promise<ClaimRenewal> {
    this.#assertOpen();
    return renewClaim(this.#claims, handle, options.leaseMs);
  }

  releaseClaim(handle: string): Promise<ClaimRelease> {
    this.#assertOpen();
    return releaseClaim(this.#claims, handle);
  }

  failClaim(
    handle: string,
    error: string,
    options: { retry?: boolean; maxAttempts?: number } = {},
  ): Promise<ClaimFailure> {
    this.#assertOpen();
    return failClaim(this.#claims, handle, error, options);
  }

  findings$(swarm: string, options: FindingsOptions = {}): Observable<Finding> {
    assertName('swarm', swarm);
    return partitionedFindings$(
      this.transport,
      this.clock,
      this.#swarms.table,
      swarm,
      options.from ?? 'start',
    );
  }

  follow(options: FollowOptions): Observable<Finding> {
    return follow$(
      {
        transport: this.transport,
        findings$: (swarm, from) => this.findings$(swarm, { from }),
        lastFindingId: (swarm) => this.lastFindingId(swarm),
        clock: this.clock,
        log: this.log,
        track: (work) => {
          const tracked = work.catch(() => {}).finally(() => this.#pending.delete(tracked));
          this.#pending.add(tracked);
        },
      },
      options,
    );
  }

  async publish(swarm: string, input: PublishInput): Promise<Finding> {
    this.#assertOpen();
    assertName('swarm', swarm);
    assertName('task type', input.type);
    if (nestedDeeperThan(input.data, MAX_DATA_DEPTH))
      throw new InvalidTaskError(`finding data is nested deeper than ${MAX_DATA_DEPTH} levels`);
    const finding: Omit<Finding, 'id'> = {
      swarm,
      taskId: input.taskId ?? randomUUID(),
      type: input.type,
      summary: String(input.summary ?? ''),
      data: input.data ?? null,
      workerId: input.workerId ?? '',
      attempt: 0,
      contextVersion: input.contextVersion,
      parent: input.parent,
      tags: tagsOf(input.tags),
      createdAt: this.clock.now(),
    };
    if (input.usage !== undefined) finding.usage = input.usage;
    const traceId = activeTraceId();
    if (traceId !== undefined) finding.traceId = traceId;
    const json = JSON.stringify(finding);
    const size = Buffer.byteLength(json);
    if (size > this.#maxPayload) throw new PayloadTooLargeError(size, this.#maxPayload);
    const id = await this.transport.publishFinding(swarm, json);
    return { id, ...finding };
  }

  lastFindingId(swarm: string): Promise<string> {
    assertName('swarm', swarm);
    return this.#swarms.lastFindingId(swarm);
  }

  cursors(swarm: string): Promise<Record<string, string>> {
    assertName('swarm', swarm);
    return this.transport.readCursors(swarm);
  }

  forgetSubscriber(swarm: string, subscriber: string): Promise<boolean> {
    this.#assertOpen();
    assertName('swarm', swarm);
    return this.transport.deleteCursor(swarm, subscriber);
  }

  async readFindings(swarm: string, options: { after?: string; count?: number } = {}): Promise<Finding[]> {
    assertName('swarm', swarm);
    return this.#swarms.readFindings(swarm, options.after, options.count ?? 1_000);
  }

  async deadLetters(swarm: string, options: { count?: number } = {}): Promise<DeadLetter[]> {
    assertName('swarm', swarm);
    return this.#swarms.deadLetters(swarm, options.count ?? 1_000);
  }

  async retryDeadLetter(swarm: string, id: string): Promise<Task> {
    assertName('swarm', swarm);
    return this.#swarms.retryDeadLetter(swarm, id);
  }

  async purgeDeadLetters(swarm: string): Promise<number> {
    this.#assertOpen();
    assertName('swarm', swarm);
    return this.#swarms.purgeDeadLetters(swarm);
  }

  swarms(): Promise<string[]> {
    return this.transport.swarms();
  }

  async registerShard(swarm: string, info: ShardInfo): Promise<void> {
    assertName('swarm', swarm);
    await this.transport.putShard(swarm, info.id, JSON.stringify(info));
  }

  async shards(swarm: string): Promise<ShardInfo[]> {
    assertName('swarm', swarm);
    const raw = await this.transport.readShards(swarm);
    return Object.values(raw)
      .map((json) => JSON.parse(json) as ShardInfo)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async partitions(swarm: string): Promise<Record<string, number>> {
    assertName('swarm', swarm);
    return this.transport.readPartitions(swarm);
  }

  async declarePartitions(swarm: string, type: string, partitions: number): Promise<void> {
    this.#assertOpen();
    assertName('swarm', swarm);
    assertName('task type', type);
    assertPartitions(partitions);
    await this.#swarms.table.declare(swarm, type, partitions);
  }

  async status(swarm: string): Promise<SwarmStatus> {
    assertName('swarm', swarm);
    const [queues, shards, cursors, lastFinding, errors] = await Promise.all([
      this.#swarms.queues(swarm),
      this.shards(swarm),
      this.transport.readCursors(swarm),
      this.lastFindingId(swarm),
      this.transport.readErrors(swarm),
    ]);
    const subscribers = Object.entries(cursors)
      .map(([name, cursor]) => ({ name, cursor }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      swarm,
      ...queues,
      shards,
      lastFinding,
      subscribers,
      errors: currentErrors(errors, this.clock.now()),
    };
  }

  async counters(swarm: string): Promise<TaskCounters[]> {
    assertName('swarm', swarm);
    return countersFromHash(await this.#swarms.counters(swarm));
  }

  async drain(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.stop()));
    await this.#settlePending();
  }

  flush(): Promise<void> {
    return this.#settlePending();
  }

  async #settlePending(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#consumers].map((c) => c.abort()));
    this.#consumers.clear();
    // Bounded: with Redis away the last cursor writes would wait for ever; they are replayed-safe.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#settlePending(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 5_000);
      }),
    ]);
    clearTimeout(timer);
    await this.transport.close();
  }
}
