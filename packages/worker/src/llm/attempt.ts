/**
 * One delivery of a task to an llm pool: its candidates tried in turn (fallback), with a second
 * call to the next one when the first is slow (hedging), every call reserved before it starts and
 * settled when it ends. The first answer wins; the others are aborted and paid for. What cannot
 * run yet defers the task; a spent budget, a refused request or a bad answer fails it.
 */
import { SwarmError } from '@swarm/core';
import type { Logger } from 'pino';
import { TaskDeferredError, UnretryableError } from '../task-errors';
import type { CallResult } from './call';
import { FALLBACK_KINDS, ModelCallError } from './call-failure';
import type { AnswerFormat } from './output';
import type { PriceOverrides } from './prices';
import type { Candidate } from './routing';
import type { SpendLimits } from './spend-limits';
import { type PricedCall, priceCall } from './usage';
import type { VendorHealth } from './vendor-health';

/** Every model of the attempt failed in a way the next attempt may not. */
export class AllModelsFailedError extends SwarmError<'SWARM_MODELS_FAILED'> {
  constructor(failures: readonly ModelCallError[]) {
    super('SWARM_MODELS_FAILED', `every model failed: ${failures.map((f) => f.message).join('; ')}`);
  }
}

/** How long a task waits when every vendor answered 429 without saying how long. */
const RATE_LIMITED_WAIT_MS = 1_000;

export interface AttemptOptions {
  /** In order of preference; each is tried at most once. */
  candidates: readonly Candidate[];
  /** The delivery's: the main call's reservation is held under it, a hedge's under `<holder>/hedge`. */
  holder: string;
  promptTokens: number;
  hedgeAfterMs: number | undefined;
  format: AnswerFormat;
  call(candidate: Candidate, signal: AbortSignal): Promise<CallResult>;
  limits: SpendLimits;
  health: VendorHealth;
  overrides: PriceOverrides | undefined;
  /** The task's: aborted on its timeout or a lost lease. */
  signal: AbortSignal;
  log: Logger;
}

export interface AttemptAnswer {
  candidate: Candidate;
  parsed: ReturnType<AnswerFormat['parse']>;
  answered: PricedCall;
  /** Every call of the attempt, in the order they ended. */
  calls: PricedCall[];
}

interface Running {
  candidate: Candidate;
  holder: string;
  controller: AbortController;
  done: Promise<CallResult>;
}

interface Ended {
  priced: PricedCall;
  parsed?: ReturnType<AnswerFormat['parse']>;
  failure?: ModelCallError;
}

export async function runAttempt(options: AttemptOptions): Promise<AttemptAnswer> {
  return new Attempt(options).run();
}

class Attempt {
  readonly #o: AttemptOptions;
  readonly #queue: Candidate[];
  readonly #calls: PricedCall[] = [];
  readonly #failures: ModelCallError[] = [];
  /** Shortest wait a rate limit or cool-down asked of a candidate that could not go. */
  #shortestWait: { ms: number; limit: string } | undefined;
  /** Why a candidate could not go: a budget spent, or one whose holds are in use. */
  #exhausted: string | undefined;
  #budgetWait: { ms: number; limit: string } | undefined;

  constructor(options: AttemptOptions) {
    this.#o = options;
    this.#queue = [...options.candidates];
  }

  async run(): Promise<AttemptAnswer> {
    const pending = new Set<Running>();
    try {
      return await this.#race(pending);
    } catch (error) {
      // A ledger that cannot be reached, say: no call is left running unsettled.
      await this.#stopAll(pending, 'the attempt failed');
      // What the failed attempt's calls cost goes into the task's error history with it, so the
      // finding of a later attempt counts every call the task took.
      if (error instanceof Error && this.#calls.length > 0)
        Object.assign(error, { calls: this.#calls.map((c) => c.call) });
      throw error;
    }
  }

  async #race(pending: Set<Running>): Promise<AttemptAnswer> {
    let hedged = false;
    const first = await this.#launch(this.#o.holder, 'main');
    if (first) pending.add(first);
    while (pending.size > 0) {
      const hedge =
        this.#o.hedgeAfterMs !== undefined && !hedged && pending.size === 1
          ? delay(this.#o.hedgeAfterMs)
          : undefined;
      let ended: Running | 'hedge';
      try {
        ended = await Promise.race([
          ...[...pending].map((r) => r.done.then(() => r)),
          ...(hedge ? [hedge.promise.then(() => 'hedge' as const)] : []),
        ]);
      } finally {
        hedge?.cancel();
      }
      if (ended === 'hedge') {
        hedged = true;
        const [main] = pending;
        const holder = main?.holder === this.#o.holder ? `${this.#o.holder}/hedge` : this.#o.holder;
        const running = await this.#launch(holder, 'hedge');
        if (running) pending.add(running);
        continue;
      }
      pending.delete(ended);
      const { priced, parsed, failure } = await this.#end(ended);
      if (parsed) {
        await this.#stopAll(pending, 'another model answered first');
        return { candidate: ended.candidate, parsed, answered: priced, calls: this.#calls };
      }
      if (failure && !FALLBACK_KINDS.has(failure.kind)) throw failure;
      if (pending.size === 0) {
        const next = await this.#launch(ended.holder, 'main');
        if (next) pending.add(next);
      }
    }
    throw this.#nothingAnswered();
  }

  /**
   * Reserves for the next candidate that can go, and starts its call. A candidate a budget cannot
   * pay for (spent, or held by calls under way) gives way to the next, cheaper or not; as a hedge,
   * it just means no hedge. When none can go, #nothingAnswered says whether to wait or give up.
   */
  async #launch(holder: string, role: 'main' | 'hedge'): Promise<Running | undefined> {
    for (;;) {
      if (this.#o.signal.aborted) return undefined;
      const candidate = this.#queue.shift();
      if (!candidate) return undefined;
      const reservation = await this.#o.limits.reserve(holder, candidate, this.#o.promptTokens);
      if (reservation.outcome === 'reserved') return this.#start(candidate, holder);
      if (reservation.outcome === 'exhausted') {
        if (role === 'hedge') return undefined;
        this.#exhausted ??= `budget exhausted: ${reservation.budget} cannot pay for another call to ${candidate.modelId} (up to $${candidate.worstCaseUsd.toFixed(6)})`;
        continue;
      }
      if (reservation.budget) {
        if (role === 'hedge') {
          this.#queue.unshift(candidate);
          return undefined;
        }
        this.#budgetWait ??= { ms: reservation.waitMs, limit: reservation.limit };
        continue;
      }
      if (!this.#shortestWait || reservation.waitMs < this.#shortestWait.ms)
        this.#shortestWait = { ms: reservation.waitMs, limit: reservation.limit };
      this.#o.log.debug(
        { model: candidate.modelId, waitMs: reservation.waitMs },
        'model skipped: its vendor is rate-limited or cooling down',
      );
    }
  }

  #start(candidate: Candidate, holder: string): Running {
    const controller = new AbortController();
    const stop = () => controller.abort(this.#o.signal.reason);
    if (this.#o.signal.aborted) stop();
    else this.#o.signal.addEventListener('abort', stop, { once: true });
    const done = this.#o
      .call(candidate, controller.signal)
      .finally(() => this.#o.signal.removeEventListener('abort', stop));
    return { candidate, holder, controller, done };
  }

  /** Records a call that ended: parses its answer, prices it, settles its reservation, tells the vendor's health. */
  async #end(running: Running, lost = false): Promise<Ended> {
    const result = await running.done;
    let failure = result.failure;
    let parsed: Ended['parsed'];
    if (!failure && !lost)
      try {
        parsed = this.#o.format.parse(result.text);
      } catch (error) {
        failure = new ModelCallError(result.modelId, 'invalid-output', (error as Error).message);
      }
    const outcome = parsed ? 'answered' : lost || failure?.kind === 'aborted' ? 'aborted' : 'failed';
    const priced = priceCall({ ...result, failure }, outcome, this.#o.overrides);
    this.#calls.push(priced);
    try {
      await this.#o.limits.settle(running.holder, running.candidate, priced.call);
    } catch (error) {
      // The hold lapses on its own; the spend goes uncounted, which the log says.
      this.#o.log.error(
        { err: (error as Error).message, model: result.modelId, costUsd: priced.call.costUsd },
        'could not settle a model call in the ledger',
      );
    }
    await this.#tellHealth(running.candidate, parsed !== undefined, failure);
    if (failure && !lost) this.#failures.push(failure);
    return { priced, ...(parsed ? { parsed } : {}), ...(failure ? { failure } : {}) };
  }

  async #tellHealth(
    candidate: Candidate,
    answered: boolean,
    failure: ModelCallError | undefined,
  ): Promise<void> {
    const { health, limits, log } = this.#o;
    if (answered) return health.answered(candidate.provider);
    if (!failure || !FALLBACK_KINDS.has(failure.kind)) return;
    log.warn(
      { model: candidate.modelId, kind: failure.kind, status: failure.status, err: failure.message },
      'model call failed',
    );
    const coolDownMs = Math.max(failure.retryAfterMs ?? 0, health.failed(candidate.provider) ?? 0);
    if (coolDownMs > 0)
      await limits.coolDown(candidate.provider, coolDownMs).catch((error: unknown) => {
        log.warn(
          { err: (error as Error).message, provider: candidate.provider },
          'could not cool the vendor down',
        );
      });
  }

  async #stopAll(pending: Set<Running>, reason: string): Promise<void> {
    const stopping = [...pending];
    pending.clear();
    for (const running of stopping) running.controller.abort(new Error(reason));
    await Promise.all(stopping.map((running) => this.#end(running, true)));
  }

  /** No candidate answered: wait if some could not go (or every one was rate-limited), else fail. */
  #nothingAnswered(): Error {
    if (this.#failures.length === 0 && !this.#shortestWait) {
      if (this.#budgetWait)
        return new TaskDeferredError(
          this.#budgetWait.ms,
          `waiting for budget ${this.#budgetWait.limit}: its reservations are in use`,
        );
      if (this.#exhausted) return new UnretryableError(this.#exhausted);
    }
    const rateLimited = this.#failures.filter((f) => f.kind === 'rate-limited');
    if (this.#shortestWait || (this.#failures.length > 0 && rateLimited.length === this.#failures.length)) {
      const asked = rateLimited.map((f) => f.retryAfterMs ?? RATE_LIMITED_WAIT_MS);
      const waits = [...(this.#shortestWait ? [this.#shortestWait.ms] : []), ...asked];
      const ms = Math.max(1, Math.min(...waits));
      const limit = this.#shortestWait?.limit ?? rateLimited.map((f) => f.modelId).join(', ');
      return new TaskDeferredError(ms, `every model is rate-limited or cooling down (${limit})`);
    }
    if (this.#failures.length === 0) return new Error('the task was stopped before any model was called');
    return new AllModelsFailedError(this.#failures);
  }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
