/** A mistake in how the command was called: exit 2, message only. */
export class UsageError extends Error {
  readonly code = 'SWARM_USAGE';
}

/**
 * Exit codes scripts and agents branch on: 3 when `worker --once` or `claim` found no task, 4
 * when a claim no longer holds its task (settled already, or its lease went to another worker).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, noTask: 3, notHeld: 4 } as const;
