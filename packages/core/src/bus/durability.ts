/**
 * How many replicas must hold a swarm's posts and completions before the caller is told they are
 * done (Redis WAIT). Without it a failover can take back a write the caller saw succeed: Redis
 * replicates asynchronously. See docs/RELIABILITY.md, Durability.
 */
export interface Durability {
  /** Replicas that must have a post or a completion first; 0 waits for none. */
  replicas: number;
  /** How long to wait for them (default 1,000 ms); past it the call fails with NotDurableError. */
  timeoutMs?: number;
}

/** One setting for every swarm of a bus, or a setting per swarm. */
export type DurabilityOption = Durability | ((swarm: string) => Durability | undefined);

export const DEFAULT_DURABILITY_TIMEOUT_MS = 1_000;

/** The setting of one swarm, defaults filled in; undefined when it waits for no replica. */
export function durabilityFor(
  option: DurabilityOption | undefined,
  swarm: string,
): Required<Durability> | undefined {
  const durability = typeof option === 'function' ? option(swarm) : option;
  if (!durability || durability.replicas <= 0) return undefined;
  return { replicas: durability.replicas, timeoutMs: durability.timeoutMs ?? DEFAULT_DURABILITY_TIMEOUT_MS };
}
