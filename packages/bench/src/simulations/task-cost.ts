/**
 * What one task costs Redis itself: CPU time and commands per task, read from the server's own
 * counters (INFO cpu, INFO commandstats), for the same no-op path as `pnpm bench throughput`
 * (postBatch in chunks of 1000, one consumer completing each delivery, one findings$ reader).
 * A primary is one thread, so 1 / (CPU seconds per task) is the most tasks/s one slot can carry,
 * whatever the clients can do: the figure partitions.ts builds on (docs/SCALING.md).
 *
 *   pnpm exec tsx packages/bench/src/simulations/task-cost.ts [tasks] [concurrency,...]
 */
import { RedisBus } from '@swarm/core';
import { startPrivateRedis } from '../redis-server';

interface Cost {
  concurrency: number;
  tasksPerSec: number;
  cpuUsPerTask: number;
  callsPerTask: number;
  /** Commands a client sent (scripts, reads, the lease record after a read), per task. */
  roundTripsPerTask: number;
  /** Per command (those run inside scripts included): calls per task. */
  breakdown: Record<string, number>;
}

const tasks = Number(process.argv[2] ?? 30_000);
const concurrencies = (process.argv[3] ?? '64,16,4').split(',').map(Number);
const CHUNK = 1_000;

type Stats = Awaited<ReturnType<RedisBus['redis']>>;

async function serverCpuSeconds(redis: Stats): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** cmdstat_<name>:calls=… per command; scripts show as evalsha. */
async function commandCalls(redis: Stats): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    calls[match[1] as string] = Number(match[2]);
  return calls;
}

async function measure(url: string, concurrency: number): Promise<Cost> {
  const swarm = `cost-${concurrency}-${Date.now()}`;
  const poster = new RedisBus({ url });
  const worker = new RedisBus({ url });
  const stats = await poster.redis();
  let seen = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const reading = poster.findings$(swarm, { from: 'start' }).subscribe(() => {
    if (++seen === tasks) finish();
  });
  const consuming = worker
    .consume(swarm, 'noop', { concurrency, leaseMs: 30_000 })
    .subscribe((delivery) => void delivery.complete({ summary: 'ok' }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await stats.config('RESETSTAT');
  const cpuBefore = await serverCpuSeconds(stats);
  const start = performance.now();
  for (let i = 0; i < tasks; i += CHUNK) {
    const batch = Array.from({ length: Math.min(CHUNK, tasks - i) }, (_, j) => ({ data: i + j }));
    await poster.postBatch(swarm, 'noop', batch);
  }
  await all;
  const seconds = (performance.now() - start) / 1000;
  const cpu = (await serverCpuSeconds(stats)) - cpuBefore;
  const calls = await commandCalls(stats);
  reading.unsubscribe();
  consuming.unsubscribe();
  await worker.drain();
  await Promise.all([worker.close(), poster.close()]);
  // The two stat reads themselves (INFO, CONFIG) are not the task path.
  delete calls.info;
  delete calls.config;
  const total = Object.values(calls).reduce((sum, n) => sum + n, 0);
  // HSET also runs inside renew.lua and reclaim.lua, which are rare on this path: counted as sent.
  const sent = ['evalsha', 'eval', 'xreadgroup', 'hset'].reduce((sum, name) => sum + (calls[name] ?? 0), 0);
  const breakdown = Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, n / tasks]));
  return {
    concurrency,
    tasksPerSec: tasks / seconds,
    cpuUsPerTask: (cpu * 1e6) / tasks,
    callsPerTask: total / tasks,
    roundTripsPerTask: sent / tasks,
    breakdown,
  };
}

const redis = await startPrivateRedis();
try {
  console.log(`task cost on one redis-server (${tasks} no-op tasks per row, posted in chunks of ${CHUNK})`);
  const rows: Cost[] = [];
  for (const concurrency of concurrencies) rows.push(await measure(redis.url, concurrency));
  console.log(
    'concurrency  tasks/s  redis cpu µs/task  commands/task  sent/task  ceiling tasks/s (1 thread)',
  );
  for (const row of rows)
    console.log(
      [
        String(row.concurrency).padStart(11),
        row.tasksPerSec.toFixed(0).padStart(7),
        row.cpuUsPerTask.toFixed(2).padStart(17),
        row.callsPerTask.toFixed(3).padStart(13),
        row.roundTripsPerTask.toFixed(3).padStart(9),
        (1e6 / row.cpuUsPerTask).toFixed(0).padStart(26),
      ].join('  '),
    );
  for (const row of rows)
    console.log(
      `calls per task at concurrency ${row.concurrency}: ${Object.entries(row.breakdown)
        .sort(([, a], [, b]) => b - a)
        .map(([name, n]) => `${name} ${n.toFixed(3)}`)
        .join(', ')}`,
    );
  if (rows.length >= 2) {
    // CPU per task = a + b × commands sent per task, fitted by least squares over the rows:
    // a is the per-entry work (XADD, delivery, XACK, XADD of the finding), b what a round trip costs.
    const n = rows.length;
    const mx = rows.reduce((s, r) => s + r.roundTripsPerTask, 0) / n;
    const my = rows.reduce((s, r) => s + r.cpuUsPerTask, 0) / n;
    const sxy = rows.reduce((s, r) => s + (r.roundTripsPerTask - mx) * (r.cpuUsPerTask - my), 0);
    const sxx = rows.reduce((s, r) => s + (r.roundTripsPerTask - mx) ** 2, 0);
    const b = sxx > 0 ? sxy / sxx : 0;
    console.log(
      `fit: redis cpu µs/task ≈ ${(my - b * mx).toFixed(2)} + ${b.toFixed(2)} × commands sent per task`,
    );
  }
} finally {
  await redis.stop();
}
