import type { Bus } from '@swarm/core';
import { closest } from './did-you-mean';

/**
 * For a swarm name that holds nothing on this Redis: a hint naming the swarms that do, so a
 * misspelt name is not taken for an empty swarm. Undefined when the swarm exists.
 */
export async function missingSwarmHint(
  bus: Bus,
  swarm: string,
  known?: string[],
): Promise<string | undefined> {
  const swarms = known ?? (await bus.swarms());
  if (swarms.includes(swarm)) return undefined;
  const near = closest(swarm, swarms);
  const list =
    swarms.length === 0 ? 'none' : swarms.slice(0, 20).join(', ') + (swarms.length > 20 ? ', …' : '');
  return `no swarm named ${swarm} on this Redis${near ? `; did you mean ${near}?` : ''} (known swarms: ${list})`;
}
