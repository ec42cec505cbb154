import { resolve } from 'node:path';
import {
  assertName,
  type Bus,
  type Clock,
  type Finding,
  type FindingsFrom,
  laterId,
  MemoryBus,
  type PostedTask,
  type ShardInfo,
  systemClock,
} from '@swarm/core';
import pino, { type Logger } from 'pino';
import { defer, filter, map, Observable, Subject, takeUntil, tap } from 'rxjs';
import { assembleContext, type ContextSource } from './context-source';
import { EmptyContextSourceError, ShardNotStartedError, ShardStoppedError } from './errors';
import { awaitOutcomes } from './gather';
import { assertShardId } from './shard-id';
import { StateWriter } from './state-writer';
import type { GatherOptions, GatherResult, ShardFinding, ShardOptions, ShardTaskInput } from './types';

const FINDINGS_PAGE = 1_000;

/**
 * The persistent actor of the forgetful-worker pattern: holds a context, posts tasks that point
 * at it, and takes in the findings workers report. Its state (context version, finding cursor)
 * lives in the bus's shard registry, so a shard restarted with the same id carries on.
 */
export class Shard {
  readonly id: string;
  readonly swarm: string;
  readonly specialization: string;
  readonly #bus: Bus;
  readonly #baseDir: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #writer: StateWriter;
  readonly #stopped$ = new Subject<void>();
  #state: 'new' | 'running' | 'stopped' = 'new';
  #context: string | undefined;
  /** Last finding id newFindings$ has taken in. */
  #cursor: string | undefined;
  /** The cursor as last written to the registry. */
  #storedCursor: string | undefined;
  /** Latest finding id known to exist: a finding of a task posted from now on comes after it. */
  #seen: string | undefined;
  #loading: Promise<unknown> = Promise.resolve();
  #starting: Promise<void> | undefined;

  constructor(options: ShardOptions) {
    assertName('swarm', options.swarm);
    assertShardId(options.id);
    this.id = options.id;
    this.swarm = options.swarm;
    this.specialization = options.specialization ?? 'general';
    this.#bus = options.bus;
    this.#baseDir = resolve(options.baseDir ?? process.cwd());
    this.#clock =
      options.clock ?? (options.bus instanceof MemoryBus ? options.bus.memory.clock : systemClock);
    const root =
      options.logger ?? pino({ level: process.env.SWARM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
    this.#log = root.child({ swarm: this.swarm, actor: 'shard', shard: this.id });
    this.#writer = new StateWriter(async () => {
      const info = this.#info();
      await this.#bus.registerShard(this.swarm, info);
      this.#storedCursor = info.cursor;
    });
  }

  /** The current context version (its content reference), if the shard has a context. */
  get contextVersion(): string | undefined {
    return this.#context;
  }

  /** Restores stored state (context version, finding cursor) from bus.shards(); call before use. Registers the shard. */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new ShardStoppedError(this.id));
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined; // a failed start (Redis away) may be tried again
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const stored = (await this.#bus.shards(this.swarm)).find((s) => s.id === this.id);
    this.#context = stored?.context;
    this.#cursor = stored?.cursor;
    this.#storedCursor = stored?.cursor;
    this.#seen = stored?.cursor;
    await this.#writer.request();
    if (this.#state === 'stopped') return;
    this.#state = 'running';
    this.#log.info(
      { contextVersion: this.#context, cursor: this.#cursor, restored: stored !== undefined },
      'shard started',
    );
  }

  /**
   * Loads text and/or files (globs, sorted, each prefixed by a "=== path ===" header line) into the
   * context store; publishes a new version when the content changed (registerShard); returns the version.
   */
  loadContext(source: ContextSource): Promise<string> {
    // One load at a time, so versions are published in call order.
    const load = this.#loading.then(() => this.#loadContext(source));
    this.#loading = load.catch(() => {});
    return load;
  }

  async #loadContext(source: ContextSource): Promise<string> {
    this.#assertRunning();
    if (source.text === undefined && (source.files ?? []).length === 0)
      throw new EmptyContextSourceError(this.id);
    const { content, files } = await assembleContext(source, this.#baseDir);
    const version = await this.#bus.context.put(this.swarm, content);
    this.#assertRunning();
    if (version === this.#context) {
      this.#log.debug({ contextVersion: version }, 'context unchanged');
      return version;
    }
    const previous = this.#context;
    this.#context = version;
    await this.#writer.request();
    this.#log.info(
      {
        contextVersion: version,
        previousVersion: previous,
        bytes: Buffer.byteLength(content),
        files: files.length,
      },
      'context published',
    );
    return version;
  }

  /** Posts one task with parent = this shard's id and context = its current version. */
  async post(type: string, input: ShardTaskInput = {}): Promise<PostedTask> {
    this.#assertRunning();
    return this.#bus.post(this.swarm, type, this.#task(input));
  }

  async postBatch(type: string, inputs: ShardTaskInput[]): Promise<PostedTask[]> {
    this.#assertRunning();
    return this.#bus.postBatch(
      this.swarm,
      type,
      inputs.map((input) => this.#task(input)),
    );
  }

  /** This shard's findings (parent === id), replayed from `from` (default 'start') then live; each marked stale or not. */
  findings$(options: { from?: FindingsFrom } = {}): Observable<ShardFinding> {
    return defer(() => {
      this.#assertRunning();
      return this.#bus.findings$(this.swarm, { from: options.from ?? 'start' });
    }).pipe(
      takeUntil(this.#stopped$),
      tap((finding) => this.#saw(finding.id)),
      filter((finding) => finding.parent === this.id),
      map((finding) => this.#mark(finding)),
    );
  }

  /**
   * Findings after the stored cursor, live; advances and stores the cursor as they are taken, so a
   * restarted shard with the same id misses none and repeats none.
   */
  newFindings$(): Observable<ShardFinding> {
    return new Observable<ShardFinding>((subscriber) => {
      if (this.#state !== 'running') {
        subscriber.error(this.#notRunning());
        return;
      }
      const from = this.#cursor ?? 'start';
      const findings = this.#bus.findings$(this.swarm, { from }).subscribe({
        next: (finding) => {
          this.#saw(finding.id);
          const own = finding.parent === this.id;
          if (own) subscriber.next(this.#mark(finding));
          // Taken in once handed over; another shard's finding moves the cursor too, but is only
          // stored with the next write, since replaying it after a crash costs nothing.
          this.#cursor = laterId(this.#cursor, finding.id);
          if (own) this.#storeCursor();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      const stopped = this.#stopped$.subscribe(() => subscriber.complete());
      return () => {
        findings.unsubscribe();
        stopped.unsubscribe();
      };
    });
  }

  /** All stored findings of this shard, oldest first. */
  async getAllFindings(): Promise<ShardFinding[]> {
    this.#assertRunning();
    const own: ShardFinding[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#bus.readFindings(this.swarm, { after, count: FINDINGS_PAGE });
      for (const finding of page) {
        this.#saw(finding.id);
        if (finding.parent === this.id) own.push(this.#mark(finding));
      }
      if (page.length < FINDINGS_PAGE) return own;
      after = page.at(-1)!.id;
    }
  }

  /** Fan-out/fan-in: posts a batch and resolves when every task has a finding or a dead letter, in input order. */
  async gather(type: string, inputs: ShardTaskInput[], options: GatherOptions = {}): Promise<GatherResult[]> {
    this.#assertRunning();
    // Any finding id known before the post bounds where the batch's findings can be; a duplicate
    // post (idempotency key seen before) may have been answered long ago, so read from the start.
    const before = this.#seen;
    const posted = await this.postBatch(type, inputs);
    const from = before !== undefined && !posted.some((p) => p.duplicate) ? before : 'start';
    const taskIds = posted.map((p) => p.id);
    const log = this.#log.child({ type });
    log.debug({ tasks: taskIds.length, timeoutMs: options.timeoutMs }, 'gather posted');
    const results = await awaitOutcomes({
      bus: this.#bus,
      swarm: this.swarm,
      shard: this.id,
      clock: this.#clock,
      log,
      taskIds,
      findings: this.findings$({ from }),
      stopped: this.#stopped$,
      timeoutMs: options.timeoutMs,
    });
    const dead = results.filter((r) => 'deadLetter' in r).length;
    log.debug({ tasks: results.length, dead }, 'gather done');
    return results;
  }

  /** Ends live findings streams and pending gathers, and stores the cursor taken so far. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    this.#stopped$.next();
    this.#stopped$.complete();
    await this.#loading;
    if (wasRunning && (this.#writer.dirty || this.#cursor !== this.#storedCursor))
      await this.#writer.request();
    this.#log.info({ contextVersion: this.#context, cursor: this.#cursor }, 'shard stopped');
  }

  #task(input: ShardTaskInput) {
    return { ...input, parent: this.id, context: this.#context };
  }

  #mark(finding: Finding): ShardFinding {
    return { ...finding, stale: finding.contextVersion !== this.#context };
  }

  #saw(id: string): void {
    this.#seen = laterId(this.#seen, id);
  }

  #storeCursor(): void {
    this.#writer.request().catch((error: unknown) => {
      // Kept dirty: the next finding or stop() writes it again.
      this.#log.warn({ err: error, cursor: this.#cursor }, 'could not store the finding cursor');
    });
  }

  #info(): ShardInfo {
    return {
      id: this.id,
      specialization: this.specialization,
      context: this.#context,
      cursor: this.#cursor,
      updatedAt: this.#clock.now(),
    };
  }

  #assertRunning(): void {
    if (this.#state !== 'running') throw this.#notRunning();
  }

  #notRunning(): Error {
    return this.#state === 'new' ? new ShardNotStartedError(this.id) : new ShardStoppedError(this.id);
  }
}
