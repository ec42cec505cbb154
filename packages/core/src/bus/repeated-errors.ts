import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { RepeatedError } from '../messages';
import { errorMessage } from './delivery';

export interface RepeatedErrorState {
  what: string;
  error: string;
  failures: number;
  since: number;
  at: number;
}

/** How often an error that keeps coming back is logged at error level, with its count. */
const LOUD_EVERY_MS = 60_000;

/**
 * The log of an error a loop retries: the first time a warning, and while it keeps coming back, an
 * error line at most once a minute with how often it came since, so a failure that repeats (a
 * MOVED from a Redis Cluster, a lost network) is never silent, even where only errors are shown.
 */
export class RepeatedErrors {
  #count = 0;
  #since = 0;
  #lastLoudAt: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly what: string,
    /** Told when the record changes (the first failure, each loud line, recovery), for `swarm status`. */
    private readonly record?: (state: RepeatedErrorState | undefined) => void,
  ) {}

  failed(error: unknown): void {
    const now = this.clock.now();
    if (this.#count === 0) this.#since = now;
    this.#count++;
    const err = errorMessage(error);
    if (this.#count === 1) {
      this.log.warn({ err }, `${this.what} failed; retrying`);
      return;
    }
    if (this.#lastLoudAt !== undefined && now - this.#lastLoudAt < LOUD_EVERY_MS) return;
    this.#lastLoudAt = now;
    this.record?.({ what: this.what, error: err, failures: this.#count, since: this.#since, at: now });
    this.log.error(
      { err, failures: this.#count, forMs: now - this.#since },
      `${this.what} keeps failing (${this.#count} times in ${Math.round((now - this.#since) / 1_000)} s); retrying`,
    );
  }

  recovered(): void {
    if (this.#count > 1) {
      this.log.warn({ failures: this.#count }, `${this.what} works again`);
      if (this.#lastLoudAt !== undefined) this.record?.(undefined);
    }
    this.#count = 0;
    this.#lastLoudAt = undefined;
  }

  get failures(): number {
    return this.#count;
  }
}

/** A record is rewritten each minute while its error lasts: an older one is a consumer that died failing. */
const ERROR_RECORD_STALE_MS = 3 * 60_000;

/** The records of `swarm status` still current: consumers failing now, not ones that died failing. */
export function currentErrors(records: Record<string, string>, now: number): RepeatedError[] {
  const errors: RepeatedError[] = [];
  for (const json of Object.values(records)) {
    try {
      const record = JSON.parse(json) as RepeatedError;
      if (now - record.at < ERROR_RECORD_STALE_MS) errors.push(record);
    } catch {
      // A record someone else wrote: not ours to show.
    }
  }
  return errors.sort((a, b) => (a.consumer < b.consumer ? -1 : 1));
}
