/**
 * Run slots shared by several consumers, so a pool that claims more than one task type (its own
 * and the swarm's help requests) never runs more than its concurrency at once.
 */
export class Slots {
  #used = 0;
  readonly #listeners = new Set<() => void>();

  constructor(readonly size: number) {}

  get free(): number {
    return this.size - this.#used;
  }

  take(): void {
    this.#used++;
  }

  release(): void {
    this.#used--;
    for (const listener of this.#listeners) listener();
  }

  /** Called after every release; returns the unsubscribe. */
  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
