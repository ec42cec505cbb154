import { setTimeout as sleep } from 'node:timers/promises';
import { RedisBus } from '@swarm/core';
import { type BenchContext, runName } from '../benchmark';
import { WorkerChild } from '../children';
import type { PrivateRedisCluster } from '../redis-cluster';

/**
 * A poster posts one task at a time to a swarm while a worker process completes them; the primary
 * of the swarm's slot is SIGKILLed, and the pause is timed from the kill to the first post that
 * succeeds again, beside when the cluster promoted the replica and when a finding came back.
 */

const TYPE = 'noop';
/** A post every few ms: a stalled post starts at most this long after the kill. */
const POST_EVERY_MS = 5;
const WARMUP_MS = 1_000;
/** How long to keep posting after the first success, to see the swarm run on the new primary. */
const AFTER_RECOVERY_MS = 1_000;
/** The core rides out a failover for about 30 s; past this the run fails. */
const RECOVERY_LIMIT_MS = 45_000;
const FINDINGS_LIMIT_MS = 20_000;

export interface FailoverResult {
  /** From the first post left unanswered by the kill to the first post that succeeded after it. */
  pauseMs: number;
  /** From the kill to a surviving node naming another primary for the slot. */
  promotedAfterMs: number;
  /** From the kill to the first finding of a task posted after it. */
  firstFindingAfterMs: number;
  notes: string[];
}

interface PostCommand {
  startedAt: number;
  endedAt: number;
  ok: boolean;
}

/** Polls the cluster until a node other than `port` serves `slot`; ms since `since`. */
async function promotion(cluster: PrivateRedisCluster, slot: number, port: number, since: number) {
  while (performance.now() - since < RECOVERY_LIMIT_MS) {
    const primary = await cluster.primaryOf(slot).catch(() => undefined);
    if (primary && primary.port !== port) return performance.now() - since;
    await sleep(20);
  }
  return Number.NaN;
}

export async function measureFailover(
  ctx: BenchContext,
  cluster: PrivateRedisCluster,
  settings: { concurrency: number },
): Promise<FailoverResult> {
  const swarm = runName('bench-fo');
  const slot = await cluster.slotOf(swarm);
  const victim = await cluster.primaryOf(slot);
  const worker = new WorkerChild(
    'failover worker',
    new URL('../workers/throughput-swarm.ts', import.meta.url),
    {
      BENCH_REDIS_URL: cluster.url,
      BENCH_SWARM: swarm,
      BENCH_TYPE: TYPE,
      BENCH_CONCURRENCY: String(settings.concurrency),
    },
  );
  const bus = new RedisBus({ url: cluster.url });
  const postedAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let duplicates = 0;
  const subscription = bus.findings$(swarm, { from: 'start' }).subscribe({
    next: (finding) => {
      if (seenAt.has(finding.taskId)) duplicates++;
      else seenAt.set(finding.taskId, performance.now());
    },
    error: (error: unknown) => ctx.log(`failover: findings$ failed: ${String(error)}`),
  });
  const commands: PostCommand[] = [];
  let lastError: unknown;
  let posting = true;
  try {
    await worker.next('ready', 60_000);
    const poster = (async () => {
      for (let n = 0; posting; n++) {
        const startedAt = performance.now();
        try {
          const { id } = await bus.post(swarm, TYPE, { data: n });
          commands.push({ startedAt, endedAt: performance.now(), ok: true });
          postedAt.set(id, startedAt);
        } catch (error) {
          commands.push({ startedAt, endedAt: performance.now(), ok: false });
          lastError = error;
        }
        await sleep(POST_EVERY_MS);
      }
    })();
    await sleep(WARMUP_MS);
    if (seenAt.size === 0) throw new Error('failover: no finding in the warm-up; the worker is not working');

    const killAt = performance.now();
    const promoted = promotion(cluster, slot, victim.port, killAt);
    await victim.kill();
    const deadAt = performance.now();
    ctx.log(`failover: SIGKILLed primary 127.0.0.1:${victim.port} (slot ${slot} of swarm ${swarm})`);
    // Posts the dead node could not have answered: those still open when its process was gone.
    const afterKill = () => commands.filter((c) => c.endedAt > deadAt);
    while (!afterKill().some((c) => c.ok)) {
      if (performance.now() - killAt > RECOVERY_LIMIT_MS)
        throw new Error(
          `failover: no post succeeded within ${RECOVERY_LIMIT_MS} ms of the kill (last error: ${String(lastError)})`,
        );
      await sleep(10);
    }
    await sleep(AFTER_RECOVERY_MS);
    posting = false;
    await poster;
    const promotedAfterMs = await promoted;

    const unanswered = afterKill();
    const firstStalled = unanswered[0] as PostCommand;
    const firstSuccess = unanswered.find((c) => c.ok) as PostCommand;
    const pauseMs = firstSuccess.endedAt - Math.max(killAt, firstStalled.startedAt);
    const failed = unanswered.filter((c) => !c.ok && c.endedAt <= firstSuccess.endedAt).length;

    // Without durability a post acknowledged just before the kill may not have reached the replica.
    const waitFrom = performance.now();
    while (
      [...postedAt.keys()].some((id) => !seenAt.has(id)) &&
      performance.now() - waitFrom < FINDINGS_LIMIT_MS
    )
      await sleep(50);
    const unfinished = [...postedAt.keys()].filter((id) => !seenAt.has(id)).length;
    const findingTimes = [...postedAt]
      .filter(([id, at]) => at >= killAt && seenAt.has(id))
      .map(([id]) => (seenAt.get(id) as number) - killAt);
    const firstFindingAfterMs = findingTimes.length > 0 ? Math.min(...findingTimes) : Number.NaN;

    return {
      pauseMs,
      promotedAfterMs,
      firstFindingAfterMs,
      notes: [
        `failover: one post at a time (every ${POST_EVERY_MS} ms) to a swarm on one primary, a worker process completing`,
        `  them; that primary SIGKILLed after ${WARMUP_MS} ms. failover_pause_ms: from the first post left unanswered to the`,
        '  first post that succeeded (the core retries MOVED/CLUSTERDOWN/closed connections every 100 ms, ~30 s);',
        '  replica_promoted_after_ms: from the kill until a surviving node names a new primary for the slot (CLUSTER SLOTS);',
        '  first_finding_after_kill_ms: until the first finding of a task posted after the kill was observed.',
        `failover counts: ${failed} post(s) failed during the pause; ${postedAt.size} posts acknowledged in all, ${unfinished}`,
        `  never observed finished within ${FINDINGS_LIMIT_MS / 1000} s after (no durability set: an acknowledged post may not have`,
        `  reached the replica), ${duplicates} duplicate finding(s).`,
      ],
    };
  } finally {
    posting = false;
    subscription.unsubscribe();
    await worker.stop();
    await bus.close();
  }
}
