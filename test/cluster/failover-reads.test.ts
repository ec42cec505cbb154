import type { RedisBus, SwarmStatus } from '@swarm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { useRedisCluster } from '../support/redis-cluster';
import { until } from '../support/until';
import { quietBus, slotOf, swarmsOnDistinctPrimaries } from './helpers';

/**
 * Issue #11: `swarm status` and pattern discovery SCAN each primary on its own connection, which
 * the cluster client does not redirect. While a primary dies and its replica takes over, they must
 * ride the failover out like any routed command: never fail, and never leave a swarm out.
 */
describe('reads that scan every primary, through a failover', () => {
  const redis = useRedisCluster();
  let bus: RedisBus | undefined;
  afterAll(async () => {
    await bus?.close();
  });

  it('bus.swarms() lists every swarm and bus.status() answers on every call while a primary is killed', async () => {
    const { cluster } = redis;
    const open = quietBus({ url: cluster.url });
    bus = open;
    const swarms = await swarmsOnDistinctPrimaries(cluster, 'reads', 3);
    for (const swarm of swarms) await open.post(swarm, 'ask', { data: swarm });
    const victimSwarm = swarms[0] as string;
    const slot = await slotOf(cluster, victimSwarm);
    const victim = await cluster.primaryOf(slot);
    const replica = await cluster.replicaOf(victim);
    // The replica must hold the post before the kill, or the failover itself would lose it.
    await until(
      async () => (await cluster.replicationOffset(replica)) >= (await cluster.replicationOffset(victim)),
      'the replica to hold every write of its primary',
    );

    const seen: string[][] = [];
    const statuses: SwarmStatus[] = [];
    const read = async () => {
      seen.push(await open.swarms());
      statuses.push(await open.status(victimSwarm));
    };
    await read();
    await victim.kill();
    // Read until the replica serves the slot, then once more: every read in between must answer.
    let promoted = false;
    while (!promoted) {
      promoted = (await cluster.primaryOf(slot).catch(() => undefined)) === replica;
      await read();
    }
    await read();

    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const listed of seen) expect(listed).toEqual(expect.arrayContaining(swarms));
    for (const status of statuses) {
      expect(status.types.map((t) => t.type)).toEqual(['ask']);
      expect(status.types[0]?.waiting).toBe(1);
    }
  });
});
