/**
 * Writes the shard's state through one lane: while a write is in flight, later requests fold into
 * one follow-up write of the then-current state, so the stored state is never older than the last
 * request and writes never overtake each other.
 */
export class StateWriter {
  #dirty = false;
  #running: Promise<void> | undefined;

  constructor(private readonly write: () => Promise<void>) {}

  /** True when the state changed since the last successful write. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Resolves once a write that began after this call has succeeded. */
  request(): Promise<void> {
    this.#dirty = true;
    this.#running ??= this.#flush().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #flush(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      try {
        await this.write();
      } catch (error) {
        this.#dirty = true;
        throw error;
      }
    }
  }
}
