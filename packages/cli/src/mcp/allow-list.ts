import { assertName, isSwarmPattern, swarmMatcher } from '@swarm/core';
import { SwarmNotAllowedError } from './errors';

/**
 * The swarms a `swarm mcp` server may touch (`--swarm`, names or patterns such as 'research-*').
 * Empty: every swarm. Checked on every tool call, so an agent cannot reach past its own swarm.
 */
export class SwarmAllowList {
  readonly entries: readonly string[];
  readonly #matches: (swarm: string) => boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) if (!isSwarmPattern(entry)) assertName('swarm', entry);
    this.entries = [...new Set(entries)];
    this.#matches = swarmMatcher(this.entries);
  }

  get restricted(): boolean {
    return this.entries.length > 0;
  }

  allows(swarm: string): boolean {
    return !this.restricted || this.#matches(swarm);
  }

  assert(swarm: string): void {
    if (!this.allows(swarm)) throw new SwarmNotAllowedError(`swarm ${JSON.stringify(swarm)}`, this.entries);
  }

  /**
   * The existing swarms a pattern reaches; refused whole if it reaches one outside the list, so
   * a pattern never quietly means less than it says. Swarms outside the list go unnamed.
   */
  resolvePattern(pattern: string, existing: readonly string[]): string[] {
    const matched = existing.filter(swarmMatcher([pattern]));
    if (matched.some((swarm) => !this.allows(swarm)))
      throw new SwarmNotAllowedError(`pattern ${JSON.stringify(pattern)} reaches a swarm that`, this.entries);
    return matched;
  }
}
