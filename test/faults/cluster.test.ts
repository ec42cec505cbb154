import { setTimeout as sleep } from 'node:timers/promises';
import { type Durability, type Finding, type RedisBus, SwarmError, type TaskInput } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { quietBus, slotOf, swarmsOnDistinctPrimaries } from '../cluster/helpers';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster';
import { until } from '../support/until';
import { killLaggingPrimary } from './kill-lagging-primary';
import {
  allFindings,
  FIXTURES,
  type Ledger,
  ledger,
  openTasks,
  report,
  UNDER_LOAD,
  Workers,
} from './support';

const TYPE = 'work';
const DURABLE: Durability = { replicas: 1, timeoutMs: 1_000 };
/** Posts go out this many at once, each with its own idempotency key (and WAIT, when durable). */
const POST_BATCH = 100;
/** A swarm's poster waits while this many of its tasks are open: posting lasts the whole run. */
const BACKLOG = 600;

/** What a fault did, for the report. */
type Figures = Record<string, number | string>;

interface BusyRun {
  cluster: RedisCluster;
  prefix: string;
  total: number;
  durable: boolean;
  /** The fault strikes once the subscriber has seen this many findings. */
  faultAtFindings: number;
  /**
   * Strikes at the primary of the first swarm's slot (or moves the slot), and waits until the
   * cluster has settled. The other swarms' slots are on the other primaries.
   */
  fault: (slot: number, others: number[]) => Promise<Figures>;
}

interface BusyResult {
  /** One per swarm, in the order of `swarms`. */
  ledgers: Ledger[];
  /** Every ledger summed, the subscriber's view and the fault's figures. */
  figures: Figures;
  subscriber: { repeats: number; missing: number; unexpected: number; findingsLost: number };
}

/** A finding's id is its stream's: the same id may come from another swarm. */
const whereOf = (f: Finding) => `${f.swarm}/${f.id}`;

const codeOf = (error: unknown) => (error instanceof SwarmError ? error.code : 'other');

/**
 * Open tasks of a swarm, or Infinity while its primary cannot answer: `status` reads the slot's
 * primary directly and fails at once during a failover instead of riding it out.
 */
const openOrUnknown = (bus: RedisBus, swarm: string) =>
  openTasks(bus, swarm).catch(() => Number.POSITIVE_INFINITY);

/**
 * 3 swarms on 3 different primaries, `total` tasks among them, posted in batches while 4 real
 * `swarm worker` processes work them and a durable subscriber (`auditor`) in this process records
 * every finding; mid-run the fault strikes the primary of the first swarm.
 *
 * 4 worker processes: two for the swarm the fault strikes, one each for the others. A worker
 * process serves one swarm, and two competing consumers in the struck swarm's group are what a
 * failover can confuse (a delivery or an ack lost with the old primary, a lease taken over).
 */
async function busyRun(run: BusyRun): Promise<BusyResult> {
  const { cluster, total, durable } = run;
  const swarms = await swarmsOnDistinctPrimaries(cluster, run.prefix, 3);
  const poster = quietBus({ url: cluster.url, ...(durable ? { durability: DURABLE } : {}) });
  const watcher = quietBus({ url: cluster.url });
  const workers = swarms.map(
    (swarm) =>
      new Workers(cluster.url, swarm, TYPE, [
        '--handler',
        `${FIXTURES}/handlers.mjs#work`,
        '--concurrency',
        '8',
        '--lease-ms',
        '2000',
      ]),
  );
  const acked = new Map(swarms.map((swarm) => [swarm, [] as string[]]));
  const seen: Finding[] = [];
  const postFailures = new Map<string, number>();
  const subscription = watcher.follow({ swarms, name: 'auditor' }).subscribe((f) => seen.push(f));

  // A post that fails is posted again with the same idempotency key until it is acknowledged:
  // one that did land (its WAIT failed, or its reply was lost) is then not posted twice.
  const postUntilAcknowledged = async (swarm: string, input: TaskInput): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await poster.post(swarm, TYPE, input)).id;
      } catch (error) {
        const code = codeOf(error);
        if (code === 'other') postFailures.set(code, (postFailures.get(code) ?? 0) + 1);
        if (attempt >= 100) throw error;
        await sleep(200);
      }
    }
  };
  const postAll = async (swarm: string, count: number): Promise<void> => {
    const ids = acked.get(swarm) as string[];
    for (let i = 0; i < count; i += POST_BATCH) {
      if (i > 0)
        await until(
          async () => (await openOrUnknown(poster, swarm)) < BACKLOG,
          () => `the backlog of ${swarm} to fall below ${BACKLOG}`,
          UNDER_LOAD,
        );
      const batch = Array.from({ length: Math.min(POST_BATCH, count - i) }, (_, k) => i + k);
      ids.push(
        ...(await Promise.all(
          batch.map((n) => postUntilAcknowledged(swarm, { data: { i: n }, idempotencyKey: `${swarm}-${n}` })),
        )),
      );
    }
  };

  const started = Date.now();
  try {
    const shares = swarms.map((_, k) => Math.floor(total / 3) + (k < total % 3 ? 1 : 0));
    const posting = Promise.all(swarms.map((swarm, k) => postAll(swarm, shares[k] as number)));
    posting.catch(() => {});
    // A durable poster records the setting in the swarm with its first post; workers started
    // after it adopt it for their completions.
    await until(
      () => [...acked.values()].every((ids) => ids.length > 0),
      'the first batch of every swarm to be posted',
      UNDER_LOAD,
    );
    for (const [k, pool] of workers.entries()) pool.start(k === 0 ? 2 : 1);

    await until(
      () => seen.length >= run.faultAtFindings,
      () => `${run.faultAtFindings} findings before the fault (${seen.length})`,
      UNDER_LOAD,
    );
    const seenBeforeFault = seen.length;
    const faultStarted = Date.now();
    const [struck, ...others] = await Promise.all(swarms.map((swarm) => slotOf(cluster, swarm)));
    const faultFigures = await run.fault(struck as number, others);
    const faultEnded = Date.now();

    await posting;
    await until(
      async () => {
        for (const swarm of swarms) if ((await openOrUnknown(poster, swarm)) > 0) return false;
        return true;
      },
      'every task of every swarm to be settled',
      UNDER_LOAD,
    );
    // The subscriber has caught up once it has seen every finding the streams now hold.
    const stored = new Map<string, Finding[]>();
    await until(
      async () => {
        for (const swarm of swarms) {
          const findings = await allFindings(watcher, swarm).catch(() => undefined);
          if (!findings) return false;
          stored.set(swarm, findings);
        }
        const seenIds = new Set(seen.map(whereOf));
        return [...stored.values()].flat().every((f) => seenIds.has(whereOf(f)));
      },
      () => `the subscriber to catch up with the streams (${seen.length} seen)`,
      UNDER_LOAD,
    );
    const settledMs = Date.now() - faultEnded;
    // A repeat would arrive after catching up: give it a moment to show.
    await sleep(1_000);

    const ledgers = await Promise.all(swarms.map((swarm) => ledger(watcher, swarm, acked.get(swarm) ?? [])));
    const perTask = new Map<string, number>();
    for (const f of seen) perTask.set(f.taskId, (perTask.get(f.taskId) ?? 0) + 1);
    const ackedIds = [...acked.values()].flat();
    const ackedSet = new Set(ackedIds);
    const storedIds = new Set([...stored.values()].flat().map(whereOf));
    const subscriber = {
      repeats: [...perTask.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
      missing: ackedIds.filter((id) => !perTask.has(id)).length,
      unexpected: [...perTask.keys()].filter((id) => !ackedSet.has(id)).length,
      // Shown to the subscriber, then taken back by the fault.
      findingsLost: seen.filter((f) => !storedIds.has(whereOf(f))).length,
    };
    const sum = (field: keyof Ledger) => ledgers.reduce((s, l) => s + l[field], 0);
    const figures: Figures = {
      tasks: sum('tasks'),
      findings: sum('findings'),
      duplicates: sum('duplicates'),
      lost: sum('lost'),
      deadLetters: sum('deadLetters'),
      open: sum('open'),
      subscriberSeen: seen.length,
      subscriberRepeats: subscriber.repeats,
      subscriberMissing: subscriber.missing,
      findingsLost: subscriber.findingsLost,
      postFailures: [...postFailures].map(([code, n]) => `${code}:${n}`).join('/') || 0,
      faultAtFindings: seenBeforeFault,
      faultAtMs: faultStarted - started,
      ...faultFigures,
      settledMs,
      totalMs: Date.now() - started,
    };
    return { ledgers, figures, subscriber };
  } finally {
    subscription.unsubscribe();
    await Promise.all(workers.map((pool) => pool.stopAll()));
    await Promise.all([poster.close(), watcher.close()]);
  }
}

/** How far the primary's writes run ahead of its frozen replica before the primary is killed. */
const UNREPLICATED_BYTES = 20_000;

/** Every stream of every swarm, and the subscriber, each task exactly once. */
function expectExactlyOnce(result: BusyResult, total: number): void {
  for (const l of result.ledgers)
    expect(l).toMatchObject({ duplicates: 0, lost: 0, deadLetters: 0, open: 0 });
  expect(result.figures).toMatchObject({ tasks: total, findings: total });
  expect(result.subscriber).toEqual({ repeats: 0, missing: 0, unexpected: 0, findingsLost: 0 });
}

/**
 * Issue #11: faults on a real Redis Cluster (3 primaries, 3 replicas, node timeout 2 s) under a
 * busy run. Each test starts a cluster of its own: a fault leaves it changed.
 */
describe('Redis Cluster faults mid-run', () => {
  it('a primary SIGKILLed, with durability.replicas 1: nothing lost, nothing twice, the subscriber sees each finding once', async () => {
    const cluster = await startRedisCluster();
    try {
      const total = 10_000;
      const result = await busyRun({
        cluster,
        prefix: 'failover-durable',
        total,
        durable: true,
        faultAtFindings: 3_000,
        fault: (slot) => killLaggingPrimary(cluster, slot, UNREPLICATED_BYTES),
      });
      report('cluster failover, durability.replicas 1', result.figures);
      expectExactlyOnce(result, total);
    } finally {
      await cluster.stop();
    }
  });

  /**
   * Without durability a failover may take back the replica's last milliseconds: acknowledged
   * posts (lost tasks) and completions (the task runs again, and a subscriber that was shown the
   * first finding sees the task twice). Those are reported, not asserted. What still holds: the
   * ack and the finding are one script, replicated together, so no stream holds two findings of
   * one task; every task that survived is settled; the subscriber misses no finding the streams
   * hold, and sees no task that was never acknowledged.
   */
  it('a primary SIGKILLed without durability: reports what is lost; no task finishes twice in a stream', async () => {
    const cluster = await startRedisCluster();
    try {
      const total = 10_000;
      const result = await busyRun({
        cluster,
        prefix: 'failover-plain',
        total,
        durable: false,
        faultAtFindings: 3_000,
        fault: (slot) => killLaggingPrimary(cluster, slot, UNREPLICATED_BYTES),
      });
      report('cluster failover, no durability', result.figures);
      for (const l of result.ledgers) expect(l).toMatchObject({ duplicates: 0, deadLetters: 0, open: 0 });
      expect(result.subscriber.unexpected).toBe(0);
    } finally {
      await cluster.stop();
    }
  });

  it('the slot of a busy swarm migrated to another primary: nothing lost, nothing twice', async () => {
    const cluster = await startRedisCluster();
    try {
      const total = 6_000;
      const result = await busyRun({
        cluster,
        prefix: 'migrate',
        total,
        durable: true,
        faultAtFindings: 2_000,
        fault: async (slot, [other]) => {
          const target = await cluster.primaryOf(other as number);
          const began = Date.now();
          const { keys } = await cluster.migrateSlot(slot, target);
          const migrateMs = Date.now() - began;
          expect(await cluster.primaryOf(slot)).toBe(target);
          return { keysMoved: keys, migrateMs };
        },
      });
      report('cluster slot migration, durability.replicas 1', result.figures);
      expectExactlyOnce(result, total);
    } finally {
      await cluster.stop();
    }
  });

  it('a primary frozen (SIGSTOP) past the node timeout, then resumed as a replica: nothing lost, nothing twice', async () => {
    const cluster = await startRedisCluster();
    try {
      const total = 6_000;
      const result = await busyRun({
        cluster,
        prefix: 'freeze',
        total,
        durable: true,
        faultAtFindings: 2_000,
        fault: async (slot) => {
          const victim = await cluster.primaryOf(slot);
          const replica = await cluster.replicaOf(victim);
          victim.pause();
          let failoverMs: number;
          try {
            failoverMs = await until(
              async () => (await cluster.primaryOf(slot)) === replica,
              'the replica of the frozen primary to be promoted',
              { limitMs: 60_000, everyMs: 100 },
            );
          } finally {
            victim.resume();
          }
          const rejoinMs = await until(
            () => cluster.isSyncedReplica(victim),
            'the resumed node to rejoin as a replica',
            { limitMs: 60_000, everyMs: 100 },
          );
          return { failoverMs, rejoinMs };
        },
      });
      report('cluster primary frozen past the node timeout, durability.replicas 1', result.figures);
      expectExactlyOnce(result, total);
    } finally {
      await cluster.stop();
    }
  });
});
