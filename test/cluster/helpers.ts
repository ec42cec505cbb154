import { keys, RedisBus, type RedisBusOptions } from '@swarm/core';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { RedisCluster, RedisClusterNode } from '../support/redis-cluster';

/** The slot a swarm's keys hash to, as the cluster itself computes it. */
export async function slotOf(cluster: RedisCluster, swarm: string): Promise<number> {
  const node = cluster.nodes[0] as RedisClusterNode;
  const client = new Redis(node.port, '127.0.0.1', { lazyConnect: true });
  client.on('error', () => {});
  try {
    return Number(await client.cluster('KEYSLOT', keys.tasks(swarm, 'x')));
  } finally {
    client.disconnect();
  }
}

/**
 * Swarm names whose slots are on `count` different primaries: `<prefix>-<n>` for the first n that
 * land on a primary not taken yet.
 */
export async function swarmsOnDistinctPrimaries(
  cluster: RedisCluster,
  prefix: string,
  count: number,
): Promise<string[]> {
  const byPrimary = new Map<number, string>();
  for (let n = 0; byPrimary.size < count && n < 1_000; n++) {
    const swarm = `${prefix}-${n}`;
    const primary = await cluster.primaryOf(await slotOf(cluster, swarm));
    if (!byPrimary.has(primary.port)) byPrimary.set(primary.port, swarm);
  }
  if (byPrimary.size < count) throw new Error(`found swarms on only ${byPrimary.size} primaries`);
  return [...byPrimary.values()];
}

/** A RedisBus whose logs stay out of the test output unless SWARM_TEST_LOGS is set. */
export function quietBus(options: RedisBusOptions): RedisBus {
  return new RedisBus({
    logger: pino({ level: process.env.SWARM_TEST_LOGS ? 'debug' : 'silent' }),
    ...options,
  });
}
