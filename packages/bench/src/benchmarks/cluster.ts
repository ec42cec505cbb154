import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskInput } from '@swarm/core';
import { partitionName, RedisBus } from '@swarm/core';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { WorkerChild } from '../children';
import { deleteSwarmKeys } from '../cleanup';
import { checkExactlyOnce } from '../exactly-once';
import { awaitProgress } from '../progress';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../redis-cluster';
import { type RoundSettings, roundSettings } from '../round-settings';
import { median } from '../stats';
import { cpuSnapshot, type Servers } from './cluster-cpu';
import { measureFailover } from './cluster-failover';

/**
 * The same load on one Redis and on a local 3-primary cluster, in one run: 3 swarms, each with
 * one worker process, the cluster's swarms placed on 3 different primaries; then the same for one
 * swarm whose task type has 3 partitions, served by 3 worker processes that each read every
 * partition, the cluster's partitions placed on 3 different primaries (issue #11, point 5). Then a
 * primary is SIGKILLed under a poster, and the pause it sees is timed.
 */

const TYPE = 'noop';
const SWARMS = 3;
/** After the last expected completion, how long to keep listening for duplicates. */
const DUPLICATE_GRACE_MS = 1_000;
const NODE_TIMEOUT_MS = 2_000;

/** Where a round runs: the URL its clients use, and every redis-server whose CPU it pays for. */
interface Target {
  name: TargetName;
  url: string;
  servers: Servers;
  /**
   * Fresh swarm names for one round: SWARMS of them, or one whose type has SWARMS partitions.
   * Either way SWARMS worker processes serve them, and SWARMS posters post `tasks` each.
   */
  swarms(): Promise<string[]>;
  /** Partitions of the task type in each swarm: 1, or SWARMS for the one partitioned swarm. */
  partitions: number;
}

type TargetName = 'single' | 'cluster' | 'single-partitioned' | 'cluster-partitioned';
const TARGETS: readonly TargetName[] = ['single', 'cluster', 'single-partitioned', 'cluster-partitioned'];

interface RoundResult {
  tasksPerSec: number;
  totalMs: number;
  /** CPU time of every process of the round (poster, workers, redis-servers) per task, in µs. */
  cpuUsPerTask: number;
  redisCpuUsPerTask: number;
  /** The replicas' part of redisCpuUsPerTask: a single Redis has none to feed. */
  replicaCpuUsPerTask: number;
}

const workerScript = new URL('../workers/throughput-swarm.ts', import.meta.url);

/** The primary (its port) serving the slot of a hash tag. */
async function primaryPortOf(cluster: PrivateRedisCluster, tag: string): Promise<number> {
  return (await cluster.primaryOf(await cluster.slotOf(tag))).port;
}

/** Swarm names whose slots are served by `count` different primaries, found by asking the cluster. */
async function swarmsOnDistinctPrimaries(cluster: PrivateRedisCluster, count: number): Promise<string[]> {
  const chosen: string[] = [];
  const primaries = new Set<number>();
  for (let tries = 0; chosen.length < count; tries++) {
    if (tries > 1_000) throw new Error(`no ${count} swarm names on ${count} different primaries`);
    const swarm = runName('bench-cl');
    // Every key of a swarm is `swarm:{<name>}:…`: its slot is the slot of the name.
    const primary = await primaryPortOf(cluster, swarm);
    if (primaries.has(primary)) continue;
    primaries.add(primary);
    chosen.push(swarm);
  }
  return chosen;
}

/**
 * A swarm name whose `partitions` partitions are served by as many different primaries: the keys
 * of partition p carry the tag `{S#p}` (`{S}` for p = 0), so their slots are those of S, S#1, ….
 */
async function partitionsOnDistinctPrimaries(
  cluster: PrivateRedisCluster,
  partitions: number,
): Promise<string> {
  for (let tries = 0; tries <= 1_000; tries++) {
    const swarm = runName('bench-clp');
    const ports = await Promise.all(
      Array.from({ length: partitions }, (_, p) => primaryPortOf(cluster, partitionName(swarm, p))),
    );
    if (new Set(ports).size === partitions) return swarm;
  }
  throw new Error(`no swarm name with its ${partitions} partitions on ${partitions} different primaries`);
}

/** Removes every key of a swarm, in every partition (each partition's keys are on its own slot). */
async function deletePartitionedSwarm(bus: RedisBus, swarm: string, partitions: number): Promise<void> {
  await Promise.all(
    Array.from({ length: partitions }, (_, p) =>
      deleteSwarmKeys(bus, partitionName(swarm, p)).catch(() => 0),
    ),
  );
}

/**
 * One round: SWARMS worker processes and SWARMS posters over the target's swarms (one each, or
 * all on its one partitioned swarm), every poster at once, timed to the last observed finding.
 */
async function round(ctx: BenchContext, target: Target, settings: RoundSettings): Promise<RoundResult> {
  const swarms = await target.swarms();
  const bus = new RedisBus({ url: target.url });
  // Declared before anything reads or posts, so the posts, findings$ and workers see every partition.
  if (target.partitions > 1)
    await Promise.all(swarms.map((swarm) => bus.declarePartitions(swarm, TYPE, target.partitions)));
  const servedBy = Array.from({ length: SWARMS }, (_, k) => k % swarms.length);
  const workers = servedBy.map(
    (i, k) =>
      new WorkerChild(`${target.name} worker ${k + 1} ${swarms[i]}`, workerScript, {
        BENCH_REDIS_URL: target.url,
        BENCH_SWARM: swarms[i] as string,
        BENCH_TYPE: TYPE,
        BENCH_CONCURRENCY: String(settings.concurrency),
        ...(target.partitions > 1 ? { BENCH_PARTITIONS: String(target.partitions) } : {}),
      }),
  );
  const total = settings.tasks * SWARMS;
  const perSwarm = total / swarms.length;
  const posted = swarms.map(() => new Set<string>());
  const seen = swarms.map(() => new Set<string>());
  const duplicates = swarms.map(() => 0);
  let observed = 0;
  let lastAt = 0;
  let finish: () => void = () => {};
  let abort: (error: unknown) => void = () => {};
  const all = new Promise<void>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });
  // Fresh swarms, read from their start: nothing can slip past before the readers are live.
  // A partitioned swarm's findings$ merges its partitions: each task must still come once.
  const subscriptions = swarms.map((swarm, i) =>
    bus.findings$(swarm, { from: 'start' }).subscribe({
      next: (finding) => {
        const ids = seen[i] as Set<string>;
        if (ids.has(finding.taskId)) duplicates[i] = (duplicates[i] as number) + 1;
        else {
          ids.add(finding.taskId);
          if (++observed === total) {
            lastAt = performance.now();
            finish();
          }
        }
      },
      error: abort,
    }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.next('ready', 60_000)));
    const before = await cpuSnapshot(workers, target.servers);
    const start = performance.now();
    await Promise.all(
      servedBy.map(async (i) => {
        const swarm = swarms[i] as string;
        for (let n = 0; n < settings.tasks; n += settings.chunk) {
          const batch: TaskInput[] = [];
          for (let j = n; j < Math.min(settings.tasks, n + settings.chunk); j++) batch.push({ data: j });
          for (const { id } of await bus.postBatch(swarm, TYPE, batch)) posted[i]?.add(id);
        }
      }),
    );
    await awaitProgress(all, {
      progress: () => observed,
      total,
      what: `${target.name} findings`,
      dead: () => workers.find((w) => w.exitStatus !== undefined)?.exitStatus,
      log: (m) => ctx.log(m),
    });
    const after = await cpuSnapshot(workers, target.servers);
    await sleep(DUPLICATE_GRACE_MS);
    swarms.forEach((swarm, i) => {
      checkExactlyOnce(
        `${target.name} ${swarm}`,
        posted[i] as Set<string>,
        seen[i] as Set<string>,
        duplicates[i] as number,
        perSwarm,
      );
    });
    const totalMs = lastAt - start;
    const replicasMs = after.replicasMs - before.replicasMs;
    const redisMs = after.primariesMs - before.primariesMs + replicasMs;
    const cpuMs = after.clientsMs - before.clientsMs + redisMs;
    return {
      tasksPerSec: total / (totalMs / 1000),
      totalMs,
      cpuUsPerTask: (cpuMs * 1000) / total,
      redisCpuUsPerTask: (redisMs * 1000) / total,
      replicaCpuUsPerTask: (replicasMs * 1000) / total,
    };
  } finally {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all(swarms.map((swarm) => deletePartitionedSwarm(bus, swarm, target.partitions)));
    await bus.close();
  }
}

/** The four targets: one Redis and the cluster, each with 3 swarms and with one partitioned swarm. */
async function targetsOf(
  ctx: BenchContext,
  localCluster: PrivateRedisCluster,
): Promise<Record<TargetName, Target>> {
  const primaries = (await localCluster.primaries()).map((node) => node.url);
  const single = { url: ctx.redisUrl, servers: { primaries: [ctx.redisUrl], replicas: [] } };
  const onCluster = {
    url: localCluster.url,
    servers: {
      primaries,
      replicas: localCluster.nodes.map((node) => node.url).filter((url) => !primaries.includes(url)),
    },
  };
  return {
    single: {
      name: 'single',
      ...single,
      swarms: async () => Array.from({ length: SWARMS }, () => runName('bench-cl')),
      partitions: 1,
    },
    cluster: {
      name: 'cluster',
      ...onCluster,
      swarms: () => swarmsOnDistinctPrimaries(localCluster, SWARMS),
      partitions: 1,
    },
    'single-partitioned': {
      name: 'single-partitioned',
      ...single,
      swarms: async () => [runName('bench-clp')],
      partitions: SWARMS,
    },
    'cluster-partitioned': {
      name: 'cluster-partitioned',
      ...onCluster,
      swarms: async () => [await partitionsOnDistinctPrimaries(localCluster, SWARMS)],
      partitions: SWARMS,
    },
  };
}

/** The medians of every target, and each cluster target against its single-Redis twin. */
function addRoundRows(out: Rows, results: Record<TargetName, RoundResult[]>): void {
  const figure = (name: TargetName, pick: (r: RoundResult) => number) => median(results[name].map(pick));
  for (const name of TARGETS) {
    out.add(
      name,
      'tasks_per_sec',
      figure(name, (r) => r.tasksPerSec),
      'tasks/s',
    );
    out.add(
      name,
      'cpu_us_per_task',
      figure(name, (r) => r.cpuUsPerTask),
      'µs',
    );
    out.add(
      name,
      'redis_cpu_us_per_task',
      figure(name, (r) => r.redisCpuUsPerTask),
      'µs',
    );
  }
  for (const [name, twin] of [
    ['cluster', 'single'],
    ['cluster-partitioned', 'single-partitioned'],
  ] as const) {
    out.add(
      name,
      'replica_cpu_us_per_task',
      figure(name, (r) => r.replicaCpuUsPerTask),
      'µs',
    );
    const rate = figure(twin, (r) => r.tasksPerSec);
    const cost = figure(twin, (r) => r.cpuUsPerTask);
    out.add(name, 'ratio_vs_single', figure(name, (r) => r.tasksPerSec) / rate, 'x');
    out.add(name, 'cpu_per_task_vs_single', figure(name, (r) => r.cpuUsPerTask) / cost, 'x');
    const withoutReplicas = figure(name, (r) => r.cpuUsPerTask - r.replicaCpuUsPerTask);
    out.add(name, 'cpu_per_task_vs_single_without_replicas', withoutReplicas / cost, 'x');
  }
}

export const cluster: Benchmark = {
  name: 'cluster',
  summary:
    '3 swarms x 1 worker process, and 1 swarm of 3 partitions x 3 worker processes, on one Redis and on a 3-primary cluster; a primary killed mid-run',
  flags: {
    tasks: {
      default: 20_000,
      help: 'no-op tasks per poster and round (3 posters, one per swarm or all on one)',
    },
    concurrency: { default: 64, help: 'concurrency of each worker process' },
    rounds: { default: 3, help: 'rounds, alternating the order of the targets; medians reported' },
    chunk: { default: 1_000, help: 'tasks per postBatch call' },
  },
  async run(ctx) {
    const settings = roundSettings(ctx);
    const rounds = ctx.int('rounds');
    const startedAt = performance.now();
    const localCluster = await startPrivateRedisCluster({ primaries: 3, nodeTimeoutMs: NODE_TIMEOUT_MS });
    ctx.log(
      `local cluster of 3 primaries + 3 replicas ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s at ${localCluster.url}`,
    );
    try {
      const targets = await targetsOf(ctx, localCluster);
      const results = Object.fromEntries(TARGETS.map((name) => [name, [] as RoundResult[]])) as Record<
        TargetName,
        RoundResult[]
      >;
      const notes = [
        `${SWARMS} swarms x ${settings.tasks} no-op tasks per round, one worker process per swarm (concurrency ${settings.concurrency}),`,
        `  posted in chunks of ${settings.chunk} to all swarms at once; time from the first post to the last finding observed`,
        '  (findings$ per swarm), every task checked observed exactly once. Median of rounds.',
        `single: one redis-server. cluster: 3 primaries + 3 replicas (cluster-node-timeout ${NODE_TIMEOUT_MS} ms),`,
        '  each swarm on a different primary (CLUSTER KEYSLOT + CLUSTER SLOTS); same machine, same run.',
        `*-partitioned: the same load on ONE swarm whose task type has ${SWARMS} partitions: ${SWARMS} posters of ${settings.tasks} tasks`,
        `  (postBatch splits each chunk over the partitions), ${SWARMS} worker processes each consuming with partitions: ${SWARMS}`,
        '  (one consumer per partition over shared slots), one findings$ merging the partitions; on the cluster the',
        `  partitions' tags (S, S#1, S#2) are on ${SWARMS} different primaries. ratio_vs_single compares with single-partitioned.`,
        'cpu_us_per_task: CPU time (user + sys) of every process of the round per task: the poster/observer,',
        '  the worker processes (process.cpuUsage) and every redis-server (INFO cpu), from the first post to the last',
        '  finding. On 2 cores both targets saturate the machine, so tasks/s shows the cores more than the cluster;',
        '  CPU per task is what the cluster costs beyond one Redis, and what more cores would have to pay for.',
        '  cpu_per_task_vs_single counts the 3 replicas (a single Redis has none to feed); _without_replicas does not.',
      ];
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? TARGETS : [...TARGETS].reverse();
        for (const name of order) {
          ctx.log(`round ${r + 1}/${rounds}: ${name}`);
          const result = await round(ctx, targets[name], settings);
          results[name].push(result);
          const line = `round ${r + 1} ${name}: ${result.tasksPerSec.toFixed(0)} tasks/s (all observed after ${(result.totalMs / 1000).toFixed(2)} s), ${result.cpuUsPerTask.toFixed(1)} µs CPU per task (redis-servers ${result.redisCpuUsPerTask.toFixed(1)}, replicas' part ${result.replicaCpuUsPerTask.toFixed(1)})`;
          ctx.log(line);
          notes.push(line);
        }
      }
      const out = new Rows('cluster');
      addRoundRows(out, results);

      ctx.log('failover: SIGKILL of a primary under a poster');
      const failover = await measureFailover(ctx, localCluster, { concurrency: settings.concurrency });
      out.add('cluster', 'failover_pause_ms', failover.pauseMs, 'ms');
      out.add('cluster', 'cluster_node_timeout_ms', NODE_TIMEOUT_MS, 'ms');
      out.add('cluster', 'replica_promoted_after_ms', failover.promotedAfterMs, 'ms');
      out.add('cluster', 'first_finding_after_kill_ms', failover.firstFindingAfterMs, 'ms');
      notes.push(...failover.notes);
      return { rows: out.rows, notes };
    } finally {
      await localCluster.stop();
    }
  },
};
