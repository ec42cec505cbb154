/**
 * When each id was first seen by an observer, and a way to wait for one: an arrival that
 * beats the waiter (possible across connections) is kept, not lost.
 */
export class Arrivals {
  readonly #seen = new Map<string, number>();
  readonly #waiters = new Map<string, (at: number) => void>();
  duplicates = 0;

  mark(id: string): void {
    if (this.#seen.has(id)) {
      this.duplicates++;
      return;
    }
    const at = performance.now();
    this.#seen.set(id, at);
    const waiter = this.#waiters.get(id);
    if (waiter) {
      this.#waiters.delete(id);
      waiter(at);
    }
  }

  /** performance.now() at which id arrived; rejects after timeoutMs. */
  wait(id: string, timeoutMs: number): Promise<number> {
    const at = this.#seen.get(id);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new Error(`no completion observed for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, (arrived) => {
        clearTimeout(timer);
        resolve(arrived);
      });
    });
  }

  /** Forgets what was seen (keeps the duplicate count). */
  forget(id: string): void {
    this.#seen.delete(id);
  }
}
