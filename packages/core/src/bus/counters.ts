/**
 * What every process did to a swarm's tasks, per task type, since the swarm began: counted by the
 * scripts where each event happens (scripts/includes/counters.lua; MemoryTransport alike) in the
 * hash keys.counters(swarm), field `<type>:<event>`.
 */
export interface TaskCounters {
  type: string;
  /** Tasks appended by a post (an idempotent repeat is not one). */
  posted: number;
  /** Deliveries completed with a finding. */
  completed: number;
  /** Attempts a worker reported failed: retried at the next attempt, or dead-lettered. */
  failed: number;
  /** Tasks moved to the dead-letter stream: by a worker, or by a reclaim past maxAttempts. */
  deadLettered: number;
  /** Deliveries taken over after their owner's lease expired. */
  reclaimed: number;
  /** Sum of `usage.costUsd` over the findings completions wrote. */
  costUsd: number;
}

/** Hash field suffix of each counter. */
const EVENTS = {
  posted: 'posted',
  completed: 'completed',
  failed: 'failed',
  deadLettered: 'dead',
  reclaimed: 'reclaimed',
  costUsd: 'costUsd',
} as const satisfies Record<Exclude<keyof TaskCounters, 'type'>, string>;

export type CounterEvent = (typeof EVENTS)[keyof typeof EVENTS];

export const counterField = (type: string, event: CounterEvent) => `${type}:${event}`;

const emptyCounters = (type: string): TaskCounters => ({
  type,
  posted: 0,
  completed: 0,
  failed: 0,
  deadLettered: 0,
  reclaimed: 0,
  costUsd: 0,
});

/** Reads the counters hash; a field it does not know (a newer writer's) is left out. */
export function countersFromHash(hash: Record<string, string>): TaskCounters[] {
  const byType = new Map<string, TaskCounters>();
  for (const [field, raw] of Object.entries(hash)) {
    const split = field.lastIndexOf(':');
    const type = field.slice(0, split);
    const event = field.slice(split + 1);
    const name = (Object.keys(EVENTS) as (keyof typeof EVENTS)[]).find((k) => EVENTS[k] === event);
    const value = Number(raw);
    if (split <= 0 || !name || !Number.isFinite(value)) continue;
    let counters = byType.get(type);
    if (!counters) {
      counters = emptyCounters(type);
      byType.set(type, counters);
    }
    counters[name] = value;
  }
  return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}
