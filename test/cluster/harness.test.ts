import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedisCluster } from '../support/redis-cluster';
import { until } from '../support/until';

/**
 * Issue #11's test harness: a real local Redis Cluster of three primaries and three replicas,
 * which later tests run swarm against, kill a primary of, and freeze.
 */
describe('the local Redis Cluster harness', () => {
  const redis = useRedisCluster();

  it('starts three primaries and three replicas, every node ok and every replica in sync', async () => {
    expect(redis.cluster.nodes).toHaveLength(6);
    const client = new Redis(redis.cluster.nodes[0]?.port ?? 0, '127.0.0.1');
    try {
      const nodes = String(await client.cluster('NODES'))
        .trim()
        .split('\n');
      expect(nodes.filter((line) => line.includes('master'))).toHaveLength(3);
      expect(nodes.filter((line) => line.includes('slave'))).toHaveLength(3);
      expect(String(await client.cluster('INFO'))).toContain('cluster_slots_assigned:16384');
    } finally {
      client.disconnect();
    }
  });

  it('serves keys of different hash tags from different primaries', async () => {
    const seeds = redis.cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    const client = new Cluster(seeds);
    try {
      const swarms = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
      for (const swarm of swarms) await client.set(`swarm:{${swarm}}:probe`, swarm);
      for (const swarm of swarms) expect(await client.get(`swarm:{${swarm}}:probe`)).toBe(swarm);
      const slots = await Promise.all(swarms.map((s) => client.cluster('KEYSLOT', `swarm:{${s}}:probe`)));
      const primaries = await Promise.all(slots.map((slot) => redis.cluster.primaryOf(Number(slot))));
      expect(new Set(primaries.map((p) => p.port)).size).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }
  });

  it('fails a killed primary over to its replica, which kept what was written to it', async () => {
    const seeds = redis.cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    const client = new Cluster(seeds, { clusterRetryStrategy: () => 100 });
    client.on('error', () => {});
    try {
      const key = 'swarm:{failover}:probe';
      await client.set(key, 'kept');
      // Acknowledged by the replica before the primary dies.
      const slot = Number(await client.cluster('KEYSLOT', key));
      const primary = await redis.cluster.primaryOf(slot);
      const direct = new Redis(primary.port, '127.0.0.1');
      expect(await direct.call('WAIT', '1', '5000')).toBe(1);
      direct.disconnect();
      await primary.kill();
      await until(
        async () => (await redis.cluster.primaryOf(slot).catch(() => primary)).port !== primary.port,
        'the replica to be promoted',
        30_000,
      );
      await until(
        async () => (await client.get(key).catch(() => null)) === 'kept',
        'the key through the new primary',
        30_000,
      );
    } finally {
      client.disconnect();
    }
  });
});
