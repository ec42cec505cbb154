import { keys, partitionName, type RedisBus, SwarmError } from '@swarm/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisCluster, RedisClusterNode } from '../support/redis-cluster';
import { useRedisCluster } from '../support/redis-cluster';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { quietBus, slotOf } from './helpers';

/** The replica of the primary that serves a swarm's slot. */
async function replicaOfSwarm(cluster: RedisCluster, swarm: string): Promise<RedisClusterNode> {
  const primary = await cluster.primaryOf(await slotOf(cluster, swarm));
  const client = new Redis(primary.port, '127.0.0.1');
  try {
    const id = String(await client.cluster('MYID'));
    const line = String(await client.cluster('NODES'))
      .trim()
      .split('\n')
      .find((l) => l.split(' ')[3] === id);
    const port = Number(line?.split(' ')[1]?.split(':')[1]?.split('@')[0]);
    const replica = cluster.nodes.find((n) => n.port === port);
    if (!replica) throw new Error(`no replica of ${primary.port}`);
    return replica;
  } finally {
    client.disconnect();
  }
}

const codeOf = (error: unknown) => (error instanceof SwarmError ? error.code : String(error));

/**
 * Issue #11's durability knob: with `durability.replicas`, a post or a completion is acknowledged
 * only once that many replicas hold it, and readers are shown only what the replicas hold.
 */
describe('durability: { replicas, timeoutMs }', () => {
  const redis = useRedisCluster();
  const buses: RedisBus[] = [];
  const open = (durable: boolean) => {
    const bus = quietBus({
      url: redis.cluster.url,
      ...(durable ? { durability: { replicas: 1, timeoutMs: 500 } } : {}),
    });
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('acknowledges posts and completions once the replica has them, and shows readers up to that', async () => {
    const swarm = 'durable-ok';
    const bus = open(true);
    await bus.postBatch(swarm, 'ask', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    const worker = bus
      .consume(swarm, 'ask')
      .subscribe((d) => void d.complete({ summary: `done ${d.task.data}` }));
    await until(async () => (await bus.readFindings(swarm)).length === 3, 'three findings');
    worker.unsubscribe();
    const raw = await bus.redis();
    const last = await bus.lastFindingId(swarm);
    expect(await raw.hget(keys.durable(swarm), 'mark')).toBe(last);
    expect(await raw.hget(keys.durable(swarm), 'replicas')).toBe('1');
  });

  it("holds a partitioned swarm's partitions to its setting, each with its own mark (issue #11, point 5)", async () => {
    const swarm = 'durable-parted';
    const bus = open(true);
    await bus.declarePartitions(swarm, 'ask', 3);
    await bus.postBatch(
      swarm,
      'ask',
      Array.from({ length: 6 }, (_, i) => ({ data: i })),
    );
    const worker = bus
      .consume(swarm, 'ask')
      .subscribe((d) => void d.complete({ summary: `done ${d.task.data}` }));
    // A process without a setting of its own reads every partition up to its mark.
    const reader = open(false);
    await until(async () => (await reader.readFindings(swarm)).length === 6, 'six findings');
    worker.unsubscribe();
    const raw = await bus.redis();
    const cursor = (await bus.lastFindingId(swarm)).split(',');
    expect(cursor).toHaveLength(3);
    for (const [p, entry] of cursor.entries()) {
      const name = partitionName(swarm, p);
      expect(await raw.hget(keys.durable(name), 'mark')).toBe(entry.replace(/^\d+:/, ''));
    }
    expect(await raw.hget(keys.durable(swarm), 'replicas')).toBe('1');
  });

  it('a replica that does not answer: the post fails with SWARM_NOT_DURABLE, and readers do not see an unconfirmed finding until it is', async () => {
    const swarm = 'durable-frozen';
    const bus = open(true);
    // A reader in another process, with no setting of its own: it stops at the swarm's mark.
    const reader = open(false);
    await bus.publish(swarm, { type: 'note', summary: 'before' });
    const replica = await replicaOfSwarm(redis.cluster, swarm);
    replica.pause();
    try {
      const post = await bus.post(swarm, 'ask', { data: 1 }).catch((error: unknown) => error);
      expect(codeOf(post)).toBe('SWARM_NOT_DURABLE');
      expect(String(post)).toContain(`swarm "${swarm}"`);
      const published = await bus
        .publish(swarm, { type: 'note', summary: 'unconfirmed' })
        .catch((e: unknown) => e);
      expect(codeOf(published)).toBe('SWARM_NOT_DURABLE');
      // On the primary, but not shown: a failover could take it back.
      expect((await reader.readFindings(swarm)).map((f) => f.summary)).toEqual(['before']);
      expect(await (await reader.redis()).xlen(keys.findings(swarm))).toBe(2);
    } finally {
      replica.resume();
    }
    // Once the replica has it again, readers catch the mark up (no writer is left to move it).
    await until(
      async () => {
        await reader.lastFindingId(swarm);
        return (await reader.readFindings(swarm)).length === 2;
      },
      'the unconfirmed finding to be shown once the replica holds it',
      { limitMs: 60_000, everyMs: 250 },
    );
  }, 90_000);
});

describe('durability on a Redis without replicas', () => {
  const redis = useRedisServer();

  it('cannot be met: a post fails with SWARM_NOT_DURABLE and says so', async () => {
    const bus = quietBus({ url: redis.url, durability: { replicas: 1, timeoutMs: 100 } });
    try {
      const error = await bus.post('lonely', 'ask', { data: 1 }).catch((e: unknown) => e);
      expect(codeOf(error)).toBe('SWARM_NOT_DURABLE');
      expect(String(error)).toContain('only 0 of 1 replicas confirmed it within 100 ms');
    } finally {
      await bus.close();
    }
  });
});
