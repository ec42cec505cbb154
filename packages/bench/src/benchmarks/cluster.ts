import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskInput } from '@swarm/core';
import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { type BenchContext, type Benchmark, Rows, runName } from '../benchmark';
import { WorkerChild } from '../children';
import { deleteSwarmKeys } from '../cleanup';
import { checkExactlyOnce } from '../exactly-once';
import { awaitProgress } from '../progress';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../redis-cluster';
import { type RoundSettings, roundSettings } from '../round-settings';
import { median } from '../stats';
import { measureFailover } from './cluster-failover';

/**
 * The same load on one Redis and on a local 3-primary cluster, in one run: 3 swarms, each with
 * one worker process, the cluster's swarms placed on 3 different primaries. Then a primary is
 * SIGKILLed under a poster, and the pause it sees is timed.
 */

const TYPE = 'noop';
const SWARMS = 3;
/** After the last expected completion, how long to keep listening for duplicates. */
const DUPLICATE_GRACE_MS = 1_000;
const NODE_TIMEOUT_MS = 2_000;

/** Where a round runs: the URL its clients use, and every redis-server whose CPU it pays for. */
interface Target {
  name: 'single' | 'cluster';
  url: string;
  servers: Servers;
  /** Fresh swarm names for one round. */
  swarms(): Promise<string[]>;
}

interface RoundResult {
  tasksPerSec: number;
  totalMs: number;
  /** CPU time of every process of the round (poster, workers, redis-servers) per task, in µs. */
  cpuUsPerTask: number;
  redisCpuUsPerTask: number;
  /** The replicas' part of redisCpuUsPerTask: a single Redis has none to feed. */
  replicaCpuUsPerTask: number;
}

interface Servers {
  primaries: string[];
  replicas: string[];
}

const workerScript = new URL('../workers/throughput-swarm.ts', import.meta.url);

/** CPU time a redis-server has used since it started (`INFO cpu`), in ms. */
async function redisCpuMs(url: string): Promise<number> {
  const client = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('cpu');
    const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

interface CpuSnapshot {
  clientsMs: number;
  primariesMs: number;
  replicasMs: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** CPU used so far by this process, the workers and the redis-servers. */
async function cpuSnapshot(workers: WorkerChild[], servers: Servers): Promise<CpuSnapshot> {
  const own = process.cpuUsage();
  const fromWorkers = await Promise.all(
    workers.map(async (worker) => {
      worker.send({ type: 'cpu' });
      const usage = await worker.next('cpu', 10_000);
      return (Number(usage.user) + Number(usage.system)) / 1000;
    }),
  );
  const [primaries, replicas] = await Promise.all([
    Promise.all(servers.primaries.map(redisCpuMs)),
    Promise.all(servers.replicas.map(redisCpuMs)),
  ]);
  return {
    clientsMs: (own.user + own.system) / 1000 + sum(fromWorkers),
    primariesMs: sum(primaries),
    replicasMs: sum(replicas),
  };
}

/** Swarm names whose slots are served by `count` different primaries, found by asking the cluster. */
async function swarmsOnDistinctPrimaries(cluster: PrivateRedisCluster, count: number): Promise<string[]> {
  const chosen: string[] = [];
  const primaries = new Set<number>();
  for (let tries = 0; chosen.length < count; tries++) {
    if (tries > 1_000) throw new Error(`no ${count} swarm names on ${count} different primaries`);
    const swarm = runName('bench-cl');
    // Every key of a swarm is `swarm:{<name>}:…`: its slot is the slot of the name.
    const primary = await cluster.primaryOf(await cluster.slotOf(swarm));
    if (primaries.has(primary.port)) continue;
    primaries.add(primary.port);
    chosen.push(swarm);
  }
  return chosen;
}

/** One round: a worker per swarm, every swarm posted at once, timed to the last observed finding. */
async function round(ctx: BenchContext, target: Target, settings: RoundSettings): Promise<RoundResult> {
  const swarms = await target.swarms();
  const workers = swarms.map(
    (swarm) =>
      new WorkerChild(`${target.name} worker ${swarm}`, workerScript, {
        BENCH_REDIS_URL: target.url,
        BENCH_SWARM: swarm,
        BENCH_TYPE: TYPE,
        BENCH_CONCURRENCY: String(settings.concurrency),
      }),
  );
  const bus = new RedisBus({ url: target.url });
  const total = settings.tasks * swarms.length;
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
      swarms.map(async (swarm, i) => {
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
        settings.tasks,
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
    await Promise.all(swarms.map((swarm) => deleteSwarmKeys(bus, swarm).catch(() => 0)));
    await bus.close();
  }
}

export const cluster: Benchmark = {
  name: 'cluster',
  summary: '3 swarms x 1 worker process on one Redis and on a 3-primary cluster; a primary killed mid-run',
  flags: {
    tasks: { default: 20_000, help: 'no-op tasks per swarm and round (3 swarms)' },
    concurrency: { default: 64, help: 'concurrency of each worker process' },
    rounds: { default: 3, help: 'rounds, alternating which target goes first; medians reported' },
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
      const primaries = (await localCluster.primaries()).map((node) => node.url);
      const targets: Record<Target['name'], Target> = {
        single: {
          name: 'single',
          url: ctx.redisUrl,
          servers: { primaries: [ctx.redisUrl], replicas: [] },
          swarms: async () => Array.from({ length: SWARMS }, () => runName('bench-cl')),
        },
        cluster: {
          name: 'cluster',
          url: localCluster.url,
          servers: {
            primaries,
            replicas: localCluster.nodes.map((node) => node.url).filter((url) => !primaries.includes(url)),
          },
          swarms: () => swarmsOnDistinctPrimaries(localCluster, SWARMS),
        },
      };
      const results: Record<Target['name'], RoundResult[]> = { single: [], cluster: [] };
      const notes = [
        `${SWARMS} swarms x ${settings.tasks} no-op tasks per round, one worker process per swarm (concurrency ${settings.concurrency}),`,
        `  posted in chunks of ${settings.chunk} to all swarms at once; time from the first post to the last finding observed`,
        '  (findings$ per swarm), every task checked observed exactly once. Median of rounds.',
        `single: one redis-server. cluster: 3 primaries + 3 replicas (cluster-node-timeout ${NODE_TIMEOUT_MS} ms),`,
        '  each swarm on a different primary (CLUSTER KEYSLOT + CLUSTER SLOTS); same machine, same run.',
        'cpu_us_per_task: CPU time (user + sys) of every process of the round per task: the poster/observer,',
        '  the worker processes (process.cpuUsage) and every redis-server (INFO cpu), from the first post to the last',
        '  finding. On 2 cores both targets saturate the machine, so tasks/s shows the cores more than the cluster;',
        '  CPU per task is what the cluster costs beyond one Redis, and what more cores would have to pay for.',
        '  cpu_per_task_vs_single counts the 3 replicas (a single Redis has none to feed); _without_replicas does not.',
      ];
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? (['single', 'cluster'] as const) : (['cluster', 'single'] as const);
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
      const figure = (name: Target['name'], pick: (r: RoundResult) => number) =>
        median(results[name].map(pick));
      for (const name of ['single', 'cluster'] as const) {
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
      out.add(
        'cluster',
        'replica_cpu_us_per_task',
        figure('cluster', (r) => r.replicaCpuUsPerTask),
        'µs',
      );
      const single = {
        rate: figure('single', (r) => r.tasksPerSec),
        cost: figure('single', (r) => r.cpuUsPerTask),
      };
      out.add('cluster', 'ratio_vs_single', figure('cluster', (r) => r.tasksPerSec) / single.rate, 'x');
      out.add(
        'cluster',
        'cpu_per_task_vs_single',
        figure('cluster', (r) => r.cpuUsPerTask) / single.cost,
        'x',
      );
      const withoutReplicas = figure('cluster', (r) => r.cpuUsPerTask - r.replicaCpuUsPerTask);
      out.add('cluster', 'cpu_per_task_vs_single_without_replicas', withoutReplicas / single.cost, 'x');

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
