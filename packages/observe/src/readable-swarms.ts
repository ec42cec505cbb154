/**
 * A user of one swarm (`swarm acl`) sees every swarm's name, since SCAN is not filtered by key
 * pattern, but may read only its own: a dashboard or a scrape over every swarm shows the swarms
 * its credentials may read and names the others, as `swarm status` does, instead of failing.
 */
export async function readEachSwarm<T>(
  swarms: readonly string[],
  read: (swarm: string) => Promise<T>,
): Promise<{ read: { swarm: string; value: T }[]; unreadable: string[] }> {
  const unreadable: string[] = [];
  const results = await Promise.all(
    swarms.map(async (swarm): Promise<{ swarm: string; value: T } | undefined> => {
      try {
        return { swarm, value: await read(swarm) };
      } catch (error) {
        if (!/\bNOPERM\b/.test(error instanceof Error ? error.message : String(error))) throw error;
        unreadable.push(swarm);
        return undefined;
      }
    }),
  );
  return {
    read: results.filter((r): r is { swarm: string; value: T } => r !== undefined),
    unreadable: unreadable.sort(),
  };
}
