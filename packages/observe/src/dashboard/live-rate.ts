/**
 * How many findings a page is sent live, per swarm: `perSecond` on average, with bursts up to
 * `burst` (a page that resumes after a restart, a batch of completions). Above it a page could not
 * show them anyway (it keeps the newest few hundred), and reading and sending each would make an
 * open dashboard cost the swarm a share of every task: the stream then sends a `gap` event and a
 * sample of the newest findings each second, until the swarm slows down again.
 */
export interface LiveRate {
  perSecond: number;
  burst: number;
}

export const DEFAULT_LIVE_RATE: LiveRate = { perSecond: 200, burst: 1_000 };

/** A token bucket: `take()` answers whether one more finding fits the rate now. */
export class LiveRateBucket {
  #tokens: number;
  #refilledAt: number;

  constructor(
    private readonly rate: LiveRate,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = rate.burst;
    this.#refilledAt = now();
  }

  take(): boolean {
    const now = this.now();
    this.#tokens = Math.min(
      this.rate.burst,
      this.#tokens + ((now - this.#refilledAt) * this.rate.perSecond) / 1_000,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
