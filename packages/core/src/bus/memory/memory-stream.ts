import type { Fields } from '../../codec';
import type { StreamBound } from '../transport';

/** Stream ids as Redis makes them: `<ms>-<seq>`, strictly increasing per stream. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

export interface PendingEntry {
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

/** An in-process Redis stream with one consumer group: the parts swarm uses, nothing more. */
export class MemoryStream {
  /** Insertion order is id order, as in Redis. */
  readonly entries = new Map<string, Fields>();
  readonly pending = new Map<string, PendingEntry>();
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
    for (const wake of [...this.#waiters]) wake();
    return id;
  }

  lastId(): string {
    let last = '0-0';
    for (const id of this.entries.keys()) last = id;
    return last;
  }

  trim(bound: StreamBound | undefined, now: number): void {
    if (bound?.maxLen !== undefined) {
      for (const id of this.entries.keys()) {
        if (this.entries.size <= bound.maxLen) break;
        this.entries.delete(id);
      }
    } else if (bound?.maxAgeMs !== undefined) {
      const minId = `${now - bound.maxAgeMs}-0`;
      for (const id of this.entries.keys()) {
        if (compareIds(id, minId) >= 0) break;
        this.entries.delete(id);
      }
    }
  }

  /** Like XRANGE: from `start` (inclusive, '-' for the beginning) or after `after`. */
  range(from: { after: string } | { start: string }, count: number): { id: string; fields: Fields }[] {
    const out: { id: string; fields: Fields }[] = [];
    for (const [id, fields] of this.entries) {
      if (out.length >= count) break;
      if ('after' in from ? compareIds(id, from.after) <= 0 : from.start !== '-' && compareIds(id, from.start) < 0)
        continue;
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
