import { setTimeout as sleep } from 'node:timers/promises';
import { type Durability, type Finding, partitionName, SwarmError, type TaskInput } from '@swarm/core';
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { quietBus, slotOf } from '../cluster/helpers';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster';
import { until } from '../support/until';
import { killLaggingPrimary } from './kill-lagging-primary';
import { allFindings, FIXTURES, ledger, openTasks, report, UNDER_LOAD, Workers } from './support';

const TYPE = 'work';
const PARTITIONS = 3;
const DURABLE: Durability = { replicas: 1, timeoutMs: 1_000 };
/** Posted with postBatch before the workers start: round-robin over the partitions. */
const POSTED_FIRST = 1_500;
/** Posted one by one while the workers run and through the fault: by each idempotency key's jump hash. */
const POSTED_DURING = 4_500;
const POST_BATCH = 100;
/** The poster waits while this many tasks are open, so posting lasts through the fault. */
const BACKLOG = 600;
const WORKER_PROCESSES = 4;
/**
 * The fault strikes once findings$ has shown this many findings: past POSTED_FIRST, so the
 * poster, held to BACKLOG open tasks, is still posting when it strikes.
 */
const FAULT_AT_FINDINGS = 2_500;
/**
 * How far the primary's writes run ahead of its frozen replica before the primary is killed.
 * Less than cluster.test.ts's 20,000: here one swarm's posts all wait on the struck partition's
 * refused WAITs, and a retried post finds its key and writes nothing, so past the first attempts
 * the primary's writes only trickle (20,000 took 11-48 s in 2 of 10 runs).
 */
const UNREPLICATED_BYTES = 5_000;

/** The partition of a finding's id as a partitioned swarm's readers give it (`p:<id>`, p = 0 plain). */
const partitionOfFinding = (f: Finding) => Number(/^(\d+):/.exec(f.id)?.[1] ?? 0);

const codeOf = (error: unknown) => (error instanceof SwarmError ? error.code : 'other');

/** A swarm name whose partitions' tags (S, S#1, S#2) hash to slots on 3 different primaries. */
async function partitionsOnDistinctPrimaries(cluster: RedisCluster, prefix: string): Promise<string> {
  for (let n = 0; n < 1_000; n++) {
    const swarm = `${prefix}-${n}`;
    const slots = await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) => slotOf(cluster, partitionName(swarm, p))),
    );
    const primaries = await Promise.all(slots.map((slot) => cluster.primaryOf(slot)));
    if (new Set(primaries.map((node) => node.port)).size === PARTITIONS) return swarm;
  }
  throw new Error(`no swarm name with its ${PARTITIONS} partitions on ${PARTITIONS} different primaries`);
}

/** How many times each task id appears among `findings`. */
function countPerTask(findings: readonly Finding[]): Map<string, number> {
  const perTask = new Map<string, number>();
  for (const f of findings) perTask.set(f.taskId, (perTask.get(f.taskId) ?? 0) + 1);
  return perTask;
}

/** Against the posted ids: tasks seen more than once (extra sightings), never seen, and seen but never posted. */
function tally(perTask: Map<string, number>, posted: ReadonlySet<string>) {
  return {
    repeats: [...perTask.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    missing: [...posted].filter((id) => !perTask.has(id)).length,
    unexpected: [...perTask.keys()].filter((id) => !posted.has(id)).length,
  };
}

/**
 * A partitioned swarm through a failover: one swarm, its task type declared with 3 partitions on
 * 3 different primaries, durability.replicas 1; tasks posted round-robin (postBatch) and by
 * idempotency key; 4 real `swarm worker` processes, each reading every partition; the primary of
 * partition `struckPartition` SIGKILLed mid-run while its replica lags.
 */
async function partitionedFailover(cluster: RedisCluster, struckPartition: number): Promise<void> {
  const swarm = await partitionsOnDistinctPrimaries(cluster, 'parted-failover');
  const poster = quietBus({ url: cluster.url, durability: DURABLE });
  const watcher = quietBus({ url: cluster.url });
  const workers = new Workers(cluster.url, swarm, TYPE, [
    '--handler',
    `${FIXTURES}/handlers.mjs#work`,
    '--concurrency',
    '8',
    '--lease-ms',
    '2000',
  ]);
  const posted = new Set<string>();
  const shown: Finding[] = [];
  const followed: Finding[] = [];
  const postFailures = new Map<string, number>();
  const subscriptions: Subscription[] = [];
  const started = Date.now();
  try {
    await poster.declarePartitions(swarm, TYPE, PARTITIONS);
    expect(await watcher.partitions(swarm)).toEqual({ [TYPE]: PARTITIONS });
    // Both readers start before the first post: findings$ from the start, and a durable subscriber.
    subscriptions.push(watcher.findings$(swarm, { from: 'start' }).subscribe((f) => shown.push(f)));
    subscriptions.push(
      watcher.follow({ swarms: [swarm], name: 'auditor' }).subscribe((f) => followed.push(f)),
    );

    // The durable poster records the setting in the swarm (and each partition its mark) with
    // these first posts; the workers started after them adopt it for their completions.
    for (let i = 0; i < POSTED_FIRST; i += 1_000) {
      const batch: TaskInput[] = Array.from({ length: Math.min(1_000, POSTED_FIRST - i) }, (_, k) => ({
        data: { i: i + k },
      }));
      for (const { id } of await poster.postBatch(swarm, TYPE, batch)) posted.add(id);
    }
    workers.start(WORKER_PROCESSES);

    // A post that fails is posted again with the same idempotency key until it is acknowledged:
    // the key's jump hash sends it to the same partition, where a copy that did land is found.
    const postUntilAcknowledged = async (input: TaskInput): Promise<string> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await poster.post(swarm, TYPE, input)).id;
        } catch (error) {
          const code = codeOf(error);
          postFailures.set(code, (postFailures.get(code) ?? 0) + 1);
          if (attempt >= 100) throw error;
          await sleep(200);
        }
      }
    };
    const posting = (async () => {
      for (let i = 0; i < POSTED_DURING; i += POST_BATCH) {
        await until(
          async () => (await openTasks(poster, swarm).catch(() => Number.POSITIVE_INFINITY)) < BACKLOG,
          () => `the backlog to fall below ${BACKLOG}`,
          UNDER_LOAD,
        );
        const batch = Array.from(
          { length: Math.min(POST_BATCH, POSTED_DURING - i) },
          (_, k) => POSTED_FIRST + i + k,
        );
        const ids = await Promise.all(
          batch.map((n) => postUntilAcknowledged({ data: { i: n }, idempotencyKey: `${swarm}-${n}` })),
        );
        for (const id of ids) posted.add(id);
      }
    })();
    posting.catch(() => {});

    await until(
      () => shown.length >= FAULT_AT_FINDINGS,
      () => `${FAULT_AT_FINDINGS} findings before the fault (${shown.length})`,
      UNDER_LOAD,
    );
    const shownBeforeFault = shown.length;
    const postedBeforeFault = posted.size;
    const faultAtMs = Date.now() - started;
    const struck = await slotOf(cluster, partitionName(swarm, struckPartition));
    const fault = await killLaggingPrimary(cluster, struck, UNREPLICATED_BYTES);
    const faultEnded = Date.now();

    await posting;
    const postedMs = Date.now() - faultEnded;
    await until(
      async () => (await openTasks(poster, swarm).catch(() => Number.POSITIVE_INFINITY)) === 0,
      'every task to be settled',
      UNDER_LOAD,
    );
    // The readers have caught up once each has shown every finding the partitions now hold.
    let stored: Finding[] = [];
    await until(
      async () => {
        stored = (await allFindings(watcher, swarm).catch(() => undefined)) ?? [];
        const shownIds = new Set(shown.map((f) => f.id));
        const followedIds = new Set(followed.map((f) => f.id));
        return stored.length > 0 && stored.every((f) => shownIds.has(f.id) && followedIds.has(f.id));
      },
      () =>
        `the readers to catch up with the partitions (${shown.length} shown, ${followed.length} followed)`,
      UNDER_LOAD,
    );
    const caughtUpMs = Date.now() - faultEnded;
    // A repeat would arrive after catching up: give it a moment to show.
    await sleep(1_000);

    const total = POSTED_FIRST + POSTED_DURING;
    const book = await ledger(watcher, swarm, [...posted]);
    const storedIds = new Set(stored.map((f) => f.id));
    const findingsPerPartition = Array.from(
      { length: PARTITIONS },
      (_, p) => stored.filter((f) => partitionOfFinding(f) === p).length,
    );
    const inStreams = tally(countPerTask(stored), posted);
    const viaFindings$ = {
      ...tally(countPerTask(shown), posted),
      // Shown to the reader, then taken back by the failover.
      takenBack: shown.filter((f) => !storedIds.has(f.id)).length,
    };
    const viaFollow = {
      ...tally(countPerTask(followed), posted),
      takenBack: followed.filter((f) => !storedIds.has(f.id)).length,
    };
    report(`partitioned swarm, primary of partition ${struckPartition} SIGKILLed, durability.replicas 1`, {
      ...book,
      perPartition: findingsPerPartition.join('/'),
      shown: shown.length,
      shownRepeats: viaFindings$.repeats,
      followed: followed.length,
      followedRepeats: viaFollow.repeats,
      postFailures: [...postFailures].map(([code, n]) => `${code}:${n}`).join('/') || 0,
      faultAtFindings: shownBeforeFault,
      postedAtFault: postedBeforeFault,
      faultAtMs,
      ...fault,
      postedMs,
      caughtUpMs,
      totalMs: Date.now() - started,
    });

    expect(posted.size).toBe(total);
    expect(book).toMatchObject({
      tasks: total,
      findings: total,
      duplicates: 0,
      lost: 0,
      deadLetters: 0,
      open: 0,
    });
    expect(inStreams).toEqual({ repeats: 0, missing: 0, unexpected: 0 });
    for (const n of findingsPerPartition) expect(n).toBeGreaterThan(0);
    expect(viaFindings$).toEqual({ repeats: 0, missing: 0, unexpected: 0, takenBack: 0 });
    expect(viaFollow).toEqual({ repeats: 0, missing: 0, unexpected: 0, takenBack: 0 });
  } finally {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await workers.stopAll();
    await Promise.all([poster.close(), watcher.close()]);
  }
}

/** Each test starts a cluster of its own: a fault leaves it changed. */
async function onFreshCluster(struckPartition: number): Promise<void> {
  const cluster = await startRedisCluster();
  try {
    await partitionedFailover(cluster, struckPartition);
  } finally {
    await cluster.stop();
  }
}

/**
 * Issue #11, point 5: faults on a real Redis Cluster (3 primaries, 3 replicas, node timeout 2 s)
 * under a partitioned swarm.
 */
describe('Redis Cluster faults: a partitioned swarm', () => {
  it("the primary of partition 0 SIGKILLed (it holds the swarm's partitions hash and durability setting), durability.replicas 1: each task has one finding across the partitions, findings$ and a durable subscriber show each once", () =>
    onFreshCluster(0));

  it('the primary of partition 1 SIGKILLed, durability.replicas 1: each task has one finding across the partitions, findings$ and a durable subscriber show each once', () =>
    onFreshCluster(1));
});
