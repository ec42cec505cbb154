import { keys, type RedisBus, type RedisClient } from '@swarm/core';

/** UNLINKs every key matching a glob pattern; returns how many went. */
export async function deleteKeys(redis: RedisClient, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}

/** Removes every key of one swarm, so repeated runs on a shared --redis leave nothing behind. */
export async function deleteSwarmKeys(bus: RedisBus, swarm: string): Promise<number> {
  // Every key of a swarm is on its slot's node: on a cluster, SCAN there.
  return deleteKeys(await bus.connection.nodeOf(keys.tasks(swarm, '')), `swarm:{${swarm}}:*`);
}
