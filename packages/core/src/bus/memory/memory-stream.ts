import type { Fields } from '../../codec';
import { compareIds } from '../stream-id';
import type { StreamBound } from '../transport';

export interface PendingEntry {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

/** An in-process Redis stream with one consumer group: the parts swarm uses, nothing more. */
export class MemoryStream {
  /** Insertion order is id order, as in Redis. */
  readonly entries = new Map<string, Fields>();
  /** Ids in order, for seeking; deleted ids linger until compaction. */
  #ids: string[] = [];
  #deleted = 0;
  readonly pending = new Map<string, PendingEntry>();
  /** The group's consumers and when each last read, as XINFO CONSUMERS keeps them. */
  readonly consumers = new Map<string, number>();
  /** Consumer → its lease in ms, as the leases hash keeps them. */
  readonly leases = new Map<string, number>();
  lastDelivered = '0-0';
  #lastMs = 0;
  #lastSeq = 0;
  readonly #waiters = new Set<() => void>();

  append(fields: Fields, now: number): string {
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#lastSeq = 0;
    } else {
      this.#lastSeq++;
    }
    const id = `${this.#lastMs}-${this.#lastSeq}`;
    this.entries.set(id, { ...fields });
    this.#ids.push(id);
    for (const wake of [...this.#waiters]) wake();
    return id;
  }

  lastId(): string {
    for (let i = this.#ids.length - 1; i >= 0; i--) {
      const id = this.#ids[i] as string;
      if (this.entries.has(id)) return id;
    }
    return '0-0';
  }

  delete(id: string): boolean {
    if (!this.entries.delete(id)) return false;
    this.pending.delete(id);
    if (++this.#deleted > 1024 && this.#deleted * 2 > this.#ids.length) {
      this.#ids = this.#ids.filter((x) => this.entries.has(x));
      this.#deleted = 0;
    }
    return true;
  }

  /** Live entries with id > after (or >= start), in order, stopping at `count`. */
  *scan(from: { after: string } | { start: string }): Generator<[string, Fields]> {
    const bound = 'after' in from ? from.after : from.start === '-' ? '0-0' : from.start;
    const inclusive = !('after' in from);
    let lo = 0;
    let hi = this.#ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareIds(this.#ids[mid] as string, bound);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#ids.length; i++) {
      const id = this.#ids[i] as string;
      const fields = this.entries.get(id);
      if (fields) yield [id, fields];
    }
  }

  trim(bound: StreamBound | undefined, now: number): void {
    if (bound?.maxLen !== undefined) {
      for (const id of this.entries.keys()) {
        if (this.entries.size <= bound.maxLen) break;
        this.delete(id);
      }
    } else if (bound?.maxAgeMs !== undefined) {
      const minId = `${now - bound.maxAgeMs}-0`;
      for (const id of this.entries.keys()) {
        if (compareIds(id, minId) >= 0) break;
        this.delete(id);
      }
    }
  }

  /** Like XRANGE: from `start` (inclusive, '-' for the beginning) or after `after`. */
  range(from: { after: string } | { start: string }, count: number): { id: string; fields: Fields }[] {
    const out: { id: string; fields: Fields }[] = [];
    for (const [id, fields] of this.scan(from)) {
      if (out.length >= count) break;
      out.push({ id, fields: { ...fields } });
    }
    return out;
  }

  /** Resolves on the next append, or when `cancel` is called. */
  waitForAppend(): { promise: Promise<void>; cancel: () => void } {
    let wake: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
    return { promise, cancel: wake };
  }
}
