import type { Logger } from 'pino';
import type { Subscriber } from 'rxjs';
import type { Clock, ClockTimer } from '../clock';
import { encodeTask } from '../codec';
import { LeaseLostError } from '../errors';
import type { CompleteResult, FailResult, FindingInput, Task } from '../messages';
import type { BackoffOptions } from './backoff';
import type { BusEvents, SettledDelivery } from './bus-events';
import { type Delivery, errorMessage } from './delivery';
import { type RepeatedErrorState, RepeatedErrors } from './repeated-errors';
import { findingOf, settleFailure, taskOrBury } from './settlement';
import type { Slots } from './slots';
import type { RawEntry, TaskQueue } from './transport';

export interface ConsumerSettings {
  consumer: string;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  blockMs: number;
  /** Shared with the pool's other consumers; a delivery holds one until its handler settles it. */
  slots: Slots | undefined;
  /** Told of each delivery handed out and settled, and of reclaims (a process's metrics). */
  events?: BusEvents | undefined;
}

/** Redis said no to these credentials (ACL, password): no retry will change its mind. */
export function isRefusal(error: unknown): boolean {
  return /^(NOPERM|WRONGPASS|NOAUTH)\b/.test(errorMessage(error));
}

/**
 * Pulls deliveries for one (swarm, type, consumer): never more than `concurrency` unsettled,
 * one renewal timer for all live leases, reclaim of expired leases and promotion of due retries.
 * Unsubscribing stops reading at once but keeps renewing the deliveries still running, so a
 * drain finishes them instead of letting their leases lapse.
 */
export class Consumer {
  /** Deliveries not yet settled in the store: running, or with their settlement in flight. */
  readonly #live = new Map<string, ActiveDelivery>();
  /** Deliveries whose handler has not yet completed or failed them: what `concurrency` bounds. */
  #running = 0;
  #reading = true;
  #wakeLoop: (() => void) | undefined;
  #renewTimer: ClockTimer | undefined;
  #promoteTimer: ClockTimer | undefined;
  #promoteAt = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Hand-backs in flight: closing waits for them, or the entry would wait out a lease. */
  readonly #handingBack = new Set<Promise<void>>();
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  constructor(
    private readonly queue: TaskQueue,
    readonly swarm: string,
    readonly type: string,
    readonly settings: ConsumerSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Where a read that keeps failing is recorded for `swarm status`. */
    private readonly recordError?: (state: RepeatedErrorState | undefined) => void,
  ) {}

  get inflight(): number {
    return this.#live.size;
  }

  #offSlots: (() => void) | undefined;
  #waitingForSlot = false;

  start(subscriber: Subscriber<Delivery>): void {
    // Another consumer's release matters only to a loop waiting for a slot, not to one backing off.
    this.#offSlots = this.settings.slots?.onRelease(() => {
      if (this.#waitingForSlot) this.#wake();
    });
    this.#scheduleRenew();
    this.#schedulePromote(0);
    this.#loop(subscriber).catch((error: unknown) => subscriber.error(error));
  }

  /** Stops reading; resolves once every running delivery has settled and the queue is closed. */
  stop(): Promise<void> {
    if (this.#drained) return this.#drained;
    this.#reading = false;
    this.queue.interrupt();
    this.#wake();
    this.#drained = new Promise<void>((resolve) => {
      this.#resolveDrained = resolve;
    }).then(() => this.#close());
    if (this.#live.size === 0) this.#resolveDrained?.();
    return this.#drained;
  }

  /** Abandons running deliveries (their leases lapse and others reclaim them). */
  async abort(): Promise<void> {
    this.#reading = false;
    this.queue.interrupt();
    this.#wake();
    await this.#close();
  }

  /** Once; a second caller (close() during a stop()) waits for the first, so the queue's
   * goodbye (removing the consumer) lands before the connection goes. */
  #close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#offSlots?.();
      if (this.#renewTimer) this.clock.clearTimeout(this.#renewTimer);
      if (this.#promoteTimer) this.clock.clearTimeout(this.#promoteTimer);
      await Promise.all(this.#handingBack);
      await this.queue.close();
    })();
    return this.#closing;
  }

  #wake(): void {
    const wake = this.#wakeLoop;
    this.#wakeLoop = undefined;
    wake?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.#wakeLoop = undefined;
        resolve();
      }, ms);
      this.#wakeLoop = () => {
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  async #loop(subscriber: Subscriber<Delivery>): Promise<void> {
    const { concurrency, leaseMs, maxAttempts, blockMs } = this.settings;
    const reclaimEveryMs = Math.max(10, Math.min(1_000, Math.floor(leaseMs / 2)));
    let nextReclaimAt = 0;
    // Killed workers' names linger in the group: forget the idle ones that own nothing.
    const pruneIdleMs = Math.max(3 * leaseMs, 5_000);
    const pruneEveryMs = Math.max(leaseMs, 5_000);
    let nextPruneAt = this.clock.now() + pruneEveryMs;
    const readErrors = new RepeatedErrors(this.log, this.clock, 'reading tasks', this.recordError);
    let groupReady = false;
    while (this.#reading && !subscriber.closed) {
      const free = Math.min(concurrency - this.#running, this.settings.slots?.free ?? concurrency);
      if (free <= 0) {
        this.#waitingForSlot = true;
        await new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
        });
        this.#waitingForSlot = false;
        continue;
      }
      try {
        if (!groupReady) {
          await this.queue.ensureGroup();
          groupReady = true;
        }
        let entries: RawEntry[];
        if (this.queue.takeMissedDeliveries()) {
          entries = (await this.queue.readOwnPending(concurrency)).filter((e) => !this.#live.has(e.id));
        } else if (this.clock.now() >= nextReclaimAt) {
          nextReclaimAt = this.clock.now() + reclaimEveryMs;
          if (this.clock.now() >= nextPruneAt) {
            nextPruneAt = this.clock.now() + pruneEveryMs;
            this.queue
              .pruneIdleConsumers(pruneIdleMs)
              .catch((error: unknown) => this.log.debug({ err: errorMessage(error) }, 'prune failed'));
          }
          const reclaimed = await this.queue.reclaim(free, maxAttempts);
          if (reclaimed.length > 0)
            this.settings.events?.reclaimed?.(this.swarm, this.type, reclaimed.length);
          // A delivery this consumer still runs (its renewal failed) is not handed out twice.
          entries = reclaimed.filter((e) => !this.#live.has(e.id));
        } else {
          const wait = Math.max(1, Math.min(blockMs, nextReclaimAt - this.clock.now()));
          entries = await this.queue.readNew(free, wait);
        }
        readErrors.recovered();
        for (const entry of entries) this.#deliver(entry, subscriber);
      } catch (error) {
        if (!this.#reading) break;
        // Refused, not failed: retrying cannot help, and the user must hear of it.
        if (isRefusal(error)) {
          subscriber.error(error);
          return;
        }
        readErrors.failed(error);
        if (String(error).includes('NOGROUP')) groupReady = false;
        await this.#sleep(Math.min(2_000, 50 * 2 ** Math.min(readErrors.failures, 6)));
      }
    }
  }

  #deliver(entry: RawEntry, subscriber: Subscriber<Delivery>): void {
    const task = taskOrBury(this.queue, this.swarm, this.type, entry, this.clock.now(), this.log);
    if (!task) return;
    // Read while stopping, or while a shared slot was taken by another consumer of the pool: hand
    // it back at once (same attempt) rather than leave it pending until its lease runs out.
    if (!this.#reading || subscriber.closed || (this.settings.slots && this.settings.slots.free <= 0)) {
      const handBack = this.queue
        .retry(entry.id, encodeTask(task), 0)
        .then(
          () => {},
          (e: unknown) => this.log.warn({ err: errorMessage(e) }, 'could not hand back an entry'),
        )
        .finally(() => this.#handingBack.delete(handBack));
      this.#handingBack.add(handBack);
      return;
    }
    const delivery = new ActiveDelivery(this, task, entry.id, this.clock.now());
    this.#live.set(entry.id, delivery);
    this.#running++;
    this.settings.slots?.take();
    this.settings.events?.delivered?.(this.swarm, this.type);
    subscriber.next(delivery);
  }

  /**
   * The handler is done with a delivery: its slot frees at once, so the next read overlaps the
   * settlement's round trip; the lease is still renewed until the store confirms.
   */
  #release(): void {
    this.#running--;
    this.settings.slots?.release();
    this.#wake();
  }

  #tell(delivery: ActiveDelivery, outcome: SettledDelivery['outcome'], costUsd?: number): void {
    const settled = this.settings.events?.settled;
    if (!settled) return;
    const ms = this.clock.now() - delivery.deliveredAt;
    settled({ swarm: this.swarm, type: this.type, outcome, ms, ...(costUsd ? { costUsd } : {}) });
  }

  #forget(delivery: ActiveDelivery): void {
    if (this.#live.get(delivery.deliveryId) !== delivery) return;
    this.#live.delete(delivery.deliveryId);
    if (!this.#reading && this.#live.size === 0) this.#resolveDrained?.();
  }

  #scheduleRenew(): void {
    const every = Math.max(5, Math.floor(this.settings.leaseMs / 3));
    this.#renewTimer = this.clock.setTimeout(() => {
      this.#renewAll().finally(() => {
        if (!this.#closed) this.#scheduleRenew();
      });
    }, every);
  }

  async #renewAll(): Promise<void> {
    const ids = [...this.#live.keys()];
    if (ids.length === 0) return;
    try {
      for (const id of await this.queue.renew(ids)) this.#live.get(id)?.markLost();
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, 'lease renewal failed');
    }
  }

  #schedulePromote(delayMs: number): void {
    if (this.#closed) return;
    // Never push a promotion later than one already due: a long backoff must not hold up a short one.
    const at = this.clock.now() + delayMs;
    if (this.#promoteTimer && this.#promoteAt <= at) return;
    if (this.#promoteTimer) this.clock.clearTimeout(this.#promoteTimer);
    this.#promoteAt = at;
    this.#promoteTimer = this.clock.setTimeout(() => {
      this.#promoteTimer = undefined;
      this.queue.promoteDue().then(
        (next) => this.#schedulePromote(next < 0 ? 1_000 : Math.min(next, 1_000)),
        (error: unknown) => {
          this.log.debug({ err: errorMessage(error) }, 'promote failed');
          this.#schedulePromote(1_000);
        },
      );
    }, delayMs);
  }

  async completeDelivery(delivery: ActiveDelivery, input: FindingInput): Promise<CompleteResult> {
    const finding = findingOf(delivery.task, input, this.settings.consumer, this.clock.now());
    this.#release();
    let outcome: SettledDelivery['outcome'] = 'lost';
    try {
      // A pool's late completion still counts if it comes first: its finding is as good.
      const id = await this.queue.complete(delivery.deliveryId, JSON.stringify(finding));
      if (id === null || id === 'lost') return { duplicate: true };
      outcome = 'completed';
      return { duplicate: false, findingId: id };
    } finally {
      this.#tell(delivery, outcome, outcome === 'completed' ? input.usage?.costUsd : undefined);
      this.#forget(delivery);
    }
  }

  async failDelivery(delivery: ActiveDelivery, error: unknown, retry: boolean): Promise<FailResult> {
    const { maxAttempts, backoff } = this.settings;
    this.#release();
    let outcome: SettledDelivery['outcome'] = 'lost';
    try {
      const result = await settleFailure(this.queue, delivery.deliveryId, delivery.task, error, {
        retry,
        maxAttempts,
        backoff,
        now: this.clock.now(),
      });
      if (result.outcome === 'retry') this.#schedulePromote(result.delayMs);
      outcome = result.outcome;
      return result;
    } finally {
      this.#tell(delivery, outcome);
      this.#forget(delivery);
    }
  }

  async deferDelivery(delivery: ActiveDelivery, delayMs: number): Promise<boolean> {
    const delay = Math.max(0, Math.round(delayMs));
    this.#release();
    let outcome: SettledDelivery['outcome'] = 'lost';
    try {
      const deferred = await this.queue.retry(delivery.deliveryId, encodeTask(delivery.task), delay);
      if (deferred) {
        this.#schedulePromote(delay);
        outcome = 'deferred';
      }
      return deferred;
    } finally {
      this.#tell(delivery, outcome);
      this.#forget(delivery);
    }
  }

  async extendDelivery(delivery: ActiveDelivery): Promise<boolean> {
    const lost = await this.queue.renew([delivery.deliveryId]);
    if (lost.length > 0) delivery.markLost();
    return lost.length === 0;
  }
}

class ActiveDelivery implements Delivery {
  // Made on first use: most handlers never look at the signal, and an AbortController is not free.
  #controller: AbortController | undefined;
  #lost = false;
  #lostListeners: (() => void)[] | undefined;
  #settled = false;

  constructor(
    private readonly owner: Consumer,
    readonly task: Task,
    readonly deliveryId: string,
    /** When it was handed to the handler (the consumer's clock): a settled delivery's duration starts here. */
    readonly deliveredAt: number,
  ) {}

  get attempt(): number {
    return this.task.attempt;
  }

  get consumer(): string {
    return this.owner.settings.consumer;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#lost) this.#controller.abort(new LeaseLostError());
    }
    return this.#controller.signal;
  }

  markLost(): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#controller?.abort(new LeaseLostError());
    for (const listener of this.#lostListeners ?? []) listener();
    this.#lostListeners = undefined;
  }

  onLost(listener: () => void): () => void {
    if (this.#lost) {
      listener();
      return () => {};
    }
    this.#lostListeners ??= [];
    this.#lostListeners.push(listener);
    return () => {
      this.#lostListeners = this.#lostListeners?.filter((l) => l !== listener);
    };
  }

  async complete(finding: FindingInput): Promise<CompleteResult> {
    if (this.#settled) return { duplicate: true };
    this.#settled = true;
    return this.owner.completeDelivery(this, finding);
  }

  async fail(error: unknown, options: { retry?: boolean } = {}): Promise<FailResult> {
    if (this.#settled) return { outcome: 'lost' };
    this.#settled = true;
    return this.owner.failDelivery(this, error, options.retry ?? true);
  }

  async defer(delayMs: number): Promise<boolean> {
    if (this.#settled) return false;
    this.#settled = true;
    return this.owner.deferDelivery(this, delayMs);
  }

  extend(): Promise<boolean> {
    return this.owner.extendDelivery(this);
  }
}
