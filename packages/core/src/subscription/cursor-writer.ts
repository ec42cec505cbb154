import { findingsCursorReached } from '../bus/partition-ids';

/**
 * Stores a subscriber's cursor behind the stream it reads: at most one write in flight, and the
 * next one carries the latest id, so a fast stream costs one round trip per burst, not per finding.
 */
export class CursorWriter {
  #latest: string | undefined;
  #stored: string | undefined;
  #inflight: Promise<void> | undefined;

  constructor(
    private readonly write: (id: string) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Moves the cursor to `id` (a finding id, or one per partition); never backwards. */
  advance(id: string): void {
    if (this.#latest !== undefined && findingsCursorReached(this.#latest, id)) return;
    this.#latest = id;
    if (!this.#inflight) this.#kick();
  }

  /** Resolves once the latest id is stored (or its write failed and was reported). */
  async flush(): Promise<void> {
    while (this.#inflight) await this.#inflight;
    if (this.#latest !== this.#stored) {
      this.#kick();
      await this.#inflight;
    }
  }

  #kick(): void {
    const id = this.#latest;
    if (id === undefined || id === this.#stored) return;
    this.#inflight = this.write(id).then(
      () => {
        this.#stored = id;
        this.#inflight = undefined;
        if (this.#latest !== id) this.#kick();
      },
      (error: unknown) => {
        // Left dirty: the next finding or flush() writes it again.
        this.#inflight = undefined;
        this.onError(error);
      },
    );
  }
}
