import { assertName } from '../keys';

/** A swarm argument with `*` or `?` is a pattern matched against the swarms a transport holds. */
export function isSwarmPattern(value: string): boolean {
  return /[*?]/.test(value);
}

/** One test for a list of glob patterns (`*` any run of characters, `?` one character). */
export function swarmMatcher(patterns: readonly string[]): (swarm: string) => boolean {
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ),
  );
  return (swarm) => regexes.some((r) => r.test(swarm));
}

/** Splits swarm arguments into names (validated) and patterns. */
export function splitSwarms(args: readonly string[]): { names: string[]; patterns: string[] } {
  const patterns = args.filter(isSwarmPattern);
  const names = args.filter((a) => !isSwarmPattern(a));
  for (const name of names) assertName('swarm', name);
  return { names: [...new Set(names)], patterns: [...new Set(patterns)] };
}
