/** A mistake in how the command was called: exit 2, message only. */
export class UsageError extends Error {
  readonly code = 'SWARM_USAGE';
}

export const EXIT = { ok: 0, failure: 1, usage: 2, noTask: 3 } as const;
