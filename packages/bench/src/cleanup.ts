import type { Redis } from 'ioredis';

/** Removes every key of one swarm, so repeated runs on a shared --redis leave nothing behind. */
export async function deleteSwarmKeys(redis: Redis, swarm: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `swarm:{${swarm}}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}
