/**
 * Throughput worker for `swarm run`: the module-handler pool a user gets from a topology file,
 * run by the bundled CLI in its own process. This script only starts and stops that process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisBus } from '@swarm/core';
import { startMetricsScraper } from '../metrics-scraper';
import { env, exitWithParent, fail, intEnv, onMessage, send, sendThenExit } from './ipc';

exitWithParent();
const cliDir = fileURLToPath(new URL('../../../cli/', import.meta.url));
execFileSync(process.execPath, [join(cliDir, 'build.mjs')], { stdio: 'ignore' });

const dir = mkdtempSync(join(tmpdir(), 'swarm-bench-run-'));
writeFileSync(join(dir, 'noop.mjs'), "export default () => 'ok';\n");
writeFileSync(
  join(dir, 'topology.yaml'),
  [
    'swarms:',
    `  ${env('BENCH_SWARM')}:`,
    '    workers:',
    `      - type: ${env('BENCH_TYPE')}`,
    '        handler: { module: ./noop.mjs }',
    `        concurrency: ${intEnv('BENCH_CONCURRENCY')}`,
    '',
  ].join('\n'),
);

// With BENCH_METRICS=1, the process serves its Prometheus metrics on a free port (the ready message says where).
const metrics = process.env.BENCH_METRICS === '1' ? ['--metrics', '127.0.0.1:0'] : [];
const child = spawn(
  process.execPath,
  [
    join(cliDir, 'dist/swarm.mjs'),
    'run',
    join(dir, 'topology.yaml'),
    '--redis',
    env('BENCH_REDIS_URL'),
    ...metrics,
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let stderr = '';
child.stderr.on('data', (chunk: Buffer) => {
  const before = stderr;
  stderr += chunk.toString();
  if (!before.includes('running;') && stderr.includes('running;')) {
    startScraping(/metrics: (http:\S+)/.exec(stderr)?.[1]);
    send({ type: 'ready' });
  }
});
child.on('exit', (code, signal) => {
  if (!stopping) fail(new Error(`swarm run exited early (${code ?? signal}): ${stderr.slice(-2_000)}`));
});

/** How often the metrics round scrapes: 15x Prometheus's default interval, so its cost shows. */
const SCRAPE_EVERY_MS = 1_000;
let scraper: { bus: RedisBus; stop: ReturnType<typeof startMetricsScraper>['stop'] } | undefined;

function startScraping(url: string | undefined): void {
  if (metrics.length === 0) return;
  if (!url) {
    fail(new Error(`swarm run --metrics did not say where its metrics are: ${stderr}`));
    return;
  }
  const bus = new RedisBus({ url: env('BENCH_REDIS_URL') });
  const swarm = env('BENCH_SWARM');
  scraper = { bus, stop: startMetricsScraper({ bus, swarm, url, everyMs: SCRAPE_EVERY_MS }).stop };
}

let stopping = false;
onMessage('stop', async () => {
  stopping = true;
  let scrapeFailed = false;
  if (scraper) {
    const counts = await scraper.stop();
    await scraper.bus.close();
    process.stderr.write(
      `[bench] metrics round: ${counts.scrapes} scrapes of both endpoints (${counts.bytes} bytes), ${counts.failures} failed\n`,
    );
    scrapeFailed = counts.scrapes === 0 || counts.failures > 0;
  }
  process.stderr.write(
    `[bench] swarm run process: ${cpuMsOf(child.pid)} ms CPU (user + system)${metrics.length > 0 ? ' with --metrics' : ''}\n`,
  );
  child.once('exit', (code) =>
    sendThenExit({ type: 'stopped', completed: -1, failed: code === 0 && !scrapeFailed ? 0 : 1 }),
  );
  child.kill('SIGTERM');
});

/**
 * CPU the `swarm run` process has used so far, from /proc (Linux; 10 ms ticks): less swayed by
 * other load on the machine than tasks/s, so a round's cost per task can be compared.
 */
function cpuMsOf(pid: number | undefined): string {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat; after the ") " split they are 11 and 12 (0-based).
    return String((Number(fields[11]) + Number(fields[12])) * 10);
  } catch {
    return 'unknown';
  }
}
