/**
 * The metrics' names and help, one place for both registries: the swarm's, read from Redis when
 * scraped (scrape-swarms.ts), and a process's own (process-metrics.ts). Labels: `swarm` and
 * `type`; `swarm` and `subscriber` for the lag.
 */
export const METRICS = {
  posted: { name: 'swarm_tasks_posted_total', help: 'Tasks posted (an idempotent repeat is not one).' },
  completed: { name: 'swarm_tasks_completed_total', help: 'Tasks completed with a finding.' },
  failed: {
    name: 'swarm_tasks_failed_total',
    help: 'Attempts a worker reported failed (retried later, or dead-lettered).',
  },
  deadLettered: {
    name: 'swarm_tasks_dead_lettered_total',
    help: 'Tasks moved to the dead-letter stream (failed past their attempts, or not to be retried).',
  },
  reclaimed: {
    name: 'swarm_leases_reclaimed_total',
    help: 'Deliveries taken over after their worker let the lease expire (died or stalled).',
  },
  costUsd: {
    name: 'swarm_cost_usd_total',
    help: 'Model spend in US dollars, summed over the usage.costUsd of completed tasks’ findings.',
  },
  waiting: { name: 'swarm_queue_waiting', help: 'Tasks waiting to be claimed.' },
  inFlight: { name: 'swarm_tasks_in_flight', help: 'Tasks claimed and not yet settled.' },
  duration: {
    name: 'swarm_task_duration_seconds',
    help: 'Seconds from a worker claiming a task to its finding being recorded.',
  },
  subscriberLag: {
    name: 'swarm_subscriber_lag',
    help: 'Findings a durable subscriber has yet to take (counted up to a limit).',
  },
} as const;

export const TASK_LABELS = ['swarm', 'type'] as const;
export const LAG_LABELS = ['swarm', 'subscriber'] as const;

/** From 5 ms (a tool call) to 10 minutes (a long model task). */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
