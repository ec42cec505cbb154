/**
 * What a bus tells an observer of its own process's work (a process's Prometheus metrics, in
 * @swarm/observe), so core need not know how it is counted. Every hook is optional and called
 * synchronously after the store confirmed the step; a hook must be cheap and must not throw.
 * What every process did together is in the swarm's counters instead (Bus.counters).
 */
export interface BusEvents {
  /** Tasks this bus appended (an idempotent repeat appends none). */
  posted?(swarm: string, type: string, count: number): void;
  /** A consumer of this bus handed a delivery to its handler: it is in flight until settled. */
  delivered?(swarm: string, type: string): void;
  /** A delivery of this bus's consumers ended; `ms` from its hand-over to the store's answer. */
  settled?(event: SettledDelivery): void;
  /** Deliveries this bus's consumers took over after their owner's lease expired. */
  reclaimed?(swarm: string, type: string, count: number): void;
}

export interface SettledDelivery {
  swarm: string;
  type: string;
  /**
   * `completed`: its finding was written; `retry`: a failed attempt, tried again later; `dead`: a
   * failed attempt that dead-lettered it; `deferred`: handed back unworked; `lost`: another
   * worker held it by then, so nothing was written.
   */
  outcome: 'completed' | 'retry' | 'dead' | 'deferred' | 'lost';
  ms: number;
  /** The finding's `usage.costUsd`, when it recorded one. */
  costUsd?: number;
}
