import type { RedisCluster } from '../support/redis-cluster';
import { until } from '../support/until';
import { UNDER_LOAD } from './support';

/**
 * SIGKILL the slot's primary while its replica lags behind. On one machine a replica is never
 * more than a moment behind, and a plain kill takes nothing with it (what the primary sent sits
 * in the replica's socket buffer even when the replica is frozen). So the replica is frozen
 * (SIGSTOP) and its link cut, the primary takes `unreplicatedBytes` more writes on its own, then
 * it is killed and the replica resumed, to be promoted without those writes. Once it serves the slot, the
 * killed node is started again; done once it is the new primary's replica. Until then the
 * promoted node has none: a durable swarm there refuses its writes (SWARM_NOT_DURABLE) rather
 * than acknowledge what one more failure would lose.
 */
export async function killLaggingPrimary(
  cluster: RedisCluster,
  slot: number,
  unreplicatedBytes: number,
): Promise<Record<string, number>> {
  const victim = await cluster.primaryOf(slot);
  const replica = await cluster.replicaOf(victim);
  const offset = await cluster.replicationOffset(victim);
  replica.pause();
  let unreplicated = 0;
  let laggedMs = 0;
  try {
    await cluster.cutReplicaLinks(victim);
    laggedMs = await until(
      async () => {
        unreplicated = (await cluster.replicationOffset(victim)) - offset;
        return unreplicated >= unreplicatedBytes;
      },
      () => `the primary to take ${unreplicatedBytes} bytes of writes its replica does not have`,
      UNDER_LOAD,
    );
    await victim.kill();
  } finally {
    replica.resume();
  }
  const failoverMs = await until(
    async () => (await cluster.primaryOf(slot)) === replica,
    'the replica to be promoted',
    { limitMs: 60_000, everyMs: 100 },
  );
  await victim.restart();
  const rejoinMs = await until(
    () => cluster.isSyncedReplica(victim),
    'the restarted node to rejoin as a replica',
    { limitMs: 60_000, everyMs: 100 },
  );
  return { unreplicatedBytes: unreplicated, laggedMs, failoverMs, rejoinMs };
}
