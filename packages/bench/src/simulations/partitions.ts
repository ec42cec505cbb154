/**
 * How throughput of one hot task type grows with Redis Cluster primaries once its stream is split
 * into partitions (docs/SCALING.md: design, not built). An analytic model, no Redis needed:
 *
 *   pnpm exec tsx packages/bench/src/simulations/partitions.ts [--workers 48] [--concurrency 64]
 *     [--names 1000] [--swarm research]
 *
 * - A primary is one thread. A task costs its partition's primary PER_TASK_US of CPU plus
 *   PER_COMMAND_US for each command a client sends, per task: the read (XREADGROUP), the lease
 *   record after it (HSET) and the completion (complete.lua) each serve one read batch, and a
 *   post (post-batch.lua) serves POST_CHUNK tasks. Both figures come from task-cost.ts.
 * - Partition p of swarm S has the hash tag {S#p} ({S} for p = 0); its slot is CRC16(tag) mod 16384 and slots
 *   are split over primaries in ranges, as `redis-cli --cluster create` does.
 * - Each worker process reads a window of partitions (see windowOf) with one consumer each, all
 *   sharing its concurrency, so a read batch is concurrency / window.
 * - Posting is round-robin: every partition gets the same rate, so the primary holding the most
 *   partitions saturates first and caps the rest. "By backlog" posts to the partition whose stream
 *   is shortest: then only a primary that holds no partition is lost.
 */

/**
 * Measured by task-cost.ts on 2026-12-01 at 3b81d78 (redis-server 7.0.15, 2-core AMD EPYC,
 * other work on the machine): two runs of 30,000 tasks at concurrency 64, 32, 16, 8 and 4 fitted
 * to 10.01 + 32.60 and 8.30 + 38.47 µs per task + µs per command sent; these are their means.
 * At concurrency 64 that is 10.8-11.3 µs a task: 88,572-92,349 tasks/s for one primary.
 */
const PER_TASK_US = 9.2;
const PER_COMMAND_US = 35.5;
/** Read, lease record, completion: the commands a worker sends per read batch. */
const COMMANDS_PER_BATCH = 3;
const POST_CHUNK = 1_000;
/**
 * What one worker process completes at most, tasks/s: `pnpm bench throughput` measured 31,921
 * tasks/s for one process (packages/bench/RESULTS.md, 2026-11-26, with poster and Redis on the
 * same 2 cores, so a floor rather than a ceiling). Rounded down.
 */
const WORKER_PROCESS_TASKS_PER_SEC = 30_000;
/** Readers per partition the windows aim for, so one dead or slow worker leaves none unread. */
const READERS_PER_PARTITION = 2;

const SLOTS = 16_384;
const PRIMARIES = [1, 3, 6, 12];
const PARTITIONS = [1, 3, 6, 12, 24, 48];

/** CRC16-XMODEM (poly 0x1021, init 0): the checksum Redis Cluster hashes keys with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a key: only the part between the first `{` and the next `}` counts, if not empty. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const tag = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(tag) % SLOTS;
}

/** The primary owning a slot when `redis-cli --cluster create` split 16384 slots over `primaries`. */
function primaryOfSlot(slot: number, primaries: number): number {
  const perPrimary = SLOTS / primaries;
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < primaries; i++) {
    let last = Math.round(cursor + perPrimary - 1);
    if (last > SLOTS || i === primaries - 1) last = SLOTS - 1;
    if (last < first) last = first;
    if (slot <= last) return i;
    first = last + 1;
    cursor += perPrimary;
  }
  return primaries - 1;
}

/** How many partitions each primary holds, for swarm `swarm` split `partitions` ways. */
function placement(swarm: string, partitions: number, primaries: number): number[] {
  const held = new Array<number>(primaries).fill(0);
  for (let p = 0; p < partitions; p++) {
    // Partition 0 keeps the swarm's own tag, so one partition is today's layout.
    const tag = p === 0 ? swarm : `${swarm}#${p}`;
    const primary = primaryOfSlot(keySlot(`swarm:{${tag}}:tasks:t`), primaries);
    held[primary] = (held[primary] ?? 0) + 1;
  }
  return held;
}

/** Partitions one worker process reads at once: enough for READERS_PER_PARTITION readers each. */
function windowOf(partitions: number, workers: number): number {
  return Math.min(partitions, Math.max(1, Math.ceil((READERS_PER_PARTITION * partitions) / workers)));
}

/** Redis CPU µs one task costs its primary, when each read batch carries `batch` tasks. */
function taskCostUs(batch: number): number {
  return PER_TASK_US + PER_COMMAND_US * (COMMANDS_PER_BATCH / Math.max(1, batch) + 1 / POST_CHUNK);
}

interface Outcome {
  roundRobin: number;
  byBacklog: number;
  mostHeld: number;
  primariesUsed: number;
}

function throughput(held: number[], partitions: number, workers: number, concurrency: number): Outcome {
  const perPrimary = 1e6 / taskCostUs(concurrency / windowOf(partitions, workers));
  const mostHeld = Math.max(...held);
  const primariesUsed = held.filter((n) => n > 0).length;
  const clients = workers * WORKER_PROCESS_TASKS_PER_SEC;
  return {
    roundRobin: Math.min(clients, (partitions / mostHeld) * perPrimary),
    byBacklog: Math.min(clients, primariesUsed * perPrimary),
    mostHeld,
    primariesUsed,
  };
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

function stringFlag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (process.argv[at + 1] ?? fallback);
}

function table(title: string, cell: (primaries: number, partitions: number) => string): void {
  console.log(`\n${title}`);
  const header = ['primaries', ...PARTITIONS.map((n) => `N=${n}`)];
  const rows = PRIMARIES.map((p) => [String(p), ...PARTITIONS.map((n) => cell(p, n))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

const thousands = (n: number) => `${(n / 1000).toFixed(0)}k`;

function main(): void {
  const workers = flag('workers', 48);
  const concurrency = flag('concurrency', 64);
  const names = flag('names', 1000);
  const swarm = stringFlag('swarm', 'research');
  const swarmNames = Array.from({ length: names }, (_, i) => `swarm-${i}`);
  const single = 1e6 / taskCostUs(concurrency);

  const mean = (p: number, n: number, pick: (o: Outcome) => number) =>
    swarmNames.reduce(
      (sum, name) => sum + pick(throughput(placement(name, n, p), n, workers, concurrency)),
      0,
    ) / names;
  const percentile5 = (p: number, n: number) => {
    const all = swarmNames
      .map((name) => throughput(placement(name, n, p), n, workers, concurrency).roundRobin)
      .sort((a, b) => a - b);
    return all[Math.floor(all.length * 0.05)] ?? 0;
  };

  console.log('partitions: one hot task type over Redis Cluster primaries (model; docs/SCALING.md)');
  console.log(
    `  ${PER_TASK_US} µs per task + ${PER_COMMAND_US} µs per command sent (${COMMANDS_PER_BATCH} per read batch, 1 per ${POST_CHUNK} posted)`,
  );
  console.log(
    `  one primary, one partition, batches of ${concurrency}: ${thousands(single)} tasks/s; ${workers} worker processes × concurrency ${concurrency}, at most ${thousands(WORKER_PROCESS_TASKS_PER_SEC)} tasks/s each (${thousands(workers * WORKER_PROCESS_TASKS_PER_SEC)} in all)`,
  );
  console.log(
    `  mean over ${names} swarm names (swarm-0 … swarm-${names - 1}); windows: ${PARTITIONS.map((n) => `N=${n}: ${windowOf(n, workers)}`).join(', ')} partitions per worker`,
  );

  table('tasks/s, posting round-robin (mean; 5th percentile in brackets)', (p, n) =>
    n === 1
      ? thousands(mean(p, n, (o) => o.roundRobin))
      : `${thousands(mean(p, n, (o) => o.roundRobin))} (${thousands(percentile5(p, n))})`,
  );
  table(
    'partitions on the busiest primary (mean) / an even split, ceil(N/P)',
    (p, n) => `${mean(p, n, (o) => o.mostHeld).toFixed(2)} / ${Math.ceil(n / p)}`,
  );
  table('tasks/s, posting by backlog (mean): only primaries holding no partition are lost', (p, n) =>
    thousands(mean(p, n, (o) => o.byBacklog)),
  );
  console.log(`\nswarm "${swarm}": partitions on each primary`);
  for (const [p, n] of [
    [3, 12],
    [6, 24],
    [12, 48],
  ] as const)
    console.log(`  ${n} partitions on ${p} primaries: ${placement(swarm, n, p).join(' ')}`);
  table('every worker reading every partition (window N), round-robin, mean tasks/s', (p, n) => {
    const perPrimary = 1e6 / taskCostUs(concurrency / n);
    const sum = swarmNames.reduce((s, name) => s + (n / Math.max(...placement(name, n, p))) * perPrimary, 0);
    return thousands(Math.min(workers * WORKER_PROCESS_TASKS_PER_SEC, sum / names));
  });
}

main();
