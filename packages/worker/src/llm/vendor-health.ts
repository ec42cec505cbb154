/**
 * A vendor that keeps failing is left alone for a while by every worker of the swarm: this
 * process counts its consecutive failures, and past a few asks the ledger to cool it down, for
 * longer each time it fails again, up to a cap. One answer resets the count.
 */

/** Consecutive failures before a vendor is cooled down. */
export const FAILURES_BEFORE_COOL_DOWN = 3;
const FIRST_COOL_DOWN_MS = 2_000;
const MAX_COOL_DOWN_MS = 60_000;

export class VendorHealth {
  readonly #failures = new Map<string, number>();

  /** Counts a failure; returns how long to cool the vendor down, if it is time to. */
  failed(provider: string): number | undefined {
    const count = (this.#failures.get(provider) ?? 0) + 1;
    this.#failures.set(provider, count);
    if (count < FAILURES_BEFORE_COOL_DOWN) return undefined;
    return Math.min(MAX_COOL_DOWN_MS, FIRST_COOL_DOWN_MS * 2 ** (count - FAILURES_BEFORE_COOL_DOWN));
  }

  answered(provider: string): void {
    this.#failures.delete(provider);
  }
}
