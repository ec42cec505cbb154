/**
 * Throughput worker for `swarm run`: the module-handler pool a user gets from a topology file,
 * run by the bundled CLI in its own process. This script only starts and stops that process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDashboardViewer } from '../dashboard-viewer';
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

/**
 * With BENCH_DASHBOARD=1 the swarm is watched as a user would watch it: `swarm run` serves its
 * Prometheus metrics (--metrics on a free port), a `swarm dashboard` process runs beside it, and
 * this process plays the open page and the Prometheus server (dashboard-viewer.ts).
 */
const watched = process.env.BENCH_DASHBOARD === '1';
const redisUrl = env('BENCH_REDIS_URL');
const child = spawn(
  process.execPath,
  [
    join(cliDir, 'dist/swarm.mjs'),
    'run',
    join(dir, 'topology.yaml'),
    '--redis',
    redisUrl,
    ...(watched ? ['--metrics', '127.0.0.1:0'] : []),
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const dashboard = watched
  ? spawn(
      process.execPath,
      [join(cliDir, 'dist/swarm.mjs'), 'dashboard', '--port', '0', '--redis', redisUrl],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
  : undefined;

let stderr = '';
let dashboardStderr = '';
let viewer: ReturnType<typeof startDashboardViewer> | undefined;
let readySent = false;
let atReady = { run: 0, dashboard: 0, own: 0 };
let stopping = false;

/** Ready once `swarm run` is running and, when watched, the dashboard listens and the viewer has started. */
function maybeReady(): void {
  if (!stderr.includes('running;') || (watched && !dashboardStderr.includes('dashboard on '))) return;
  if (watched) {
    const workerMetricsUrl = /metrics: (http:\S+)/.exec(stderr)?.[1];
    const dashboardUrl = /dashboard on (http:\S+)/.exec(dashboardStderr)?.[1];
    if (!workerMetricsUrl || !dashboardUrl) {
      fail(new Error(`no metrics or dashboard address: ${stderr} ${dashboardStderr}`));
      return;
    }
    viewer = startDashboardViewer({ dashboardUrl, workerMetricsUrl });
  }
  // CPU from here on is the round's: start-up (loading the bundle, an SDK) is left out.
  atReady = { run: cpuMsOf(child.pid), dashboard: dashboard ? cpuMsOf(dashboard.pid) : 0, own: ownCpuMs() };
  send({ type: 'ready' });
  readySent = true;
}

child.stderr.on('data', (chunk: Buffer) => {
  stderr += chunk.toString();
  if (!readySent) maybeReady();
});
dashboard?.stderr.on('data', (chunk: Buffer) => {
  dashboardStderr += chunk.toString();
  if (!readySent) maybeReady();
});
child.on('exit', (code, signal) => {
  if (!stopping) fail(new Error(`swarm run exited early (${code ?? signal}): ${stderr.slice(-2_000)}`));
});
dashboard?.on('exit', (code, signal) => {
  if (!stopping)
    fail(new Error(`swarm dashboard exited early (${code ?? signal}): ${dashboardStderr.slice(-2_000)}`));
});

const exited = (p: ReturnType<typeof spawn>) =>
  new Promise<number | null>((resolve) => {
    if (p.exitCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });

onMessage('stop', async () => {
  stopping = true;
  let watchFailed = false;
  if (viewer) {
    const counts = await viewer.stop();
    process.stderr.write(
      `[bench] dashboard round: ${counts.findings} findings streamed, ${counts.polls} page polls, ${counts.scrapes} scrapes of both /metrics, ${counts.failures} failed${counts.firstFailure ? ` (first: ${counts.firstFailure})` : ''}\n`,
    );
    watchFailed = counts.findings === 0 || counts.scrapes === 0 || counts.failures > 0;
  }
  const cpu = {
    run: cpuMsOf(child.pid) - atReady.run,
    dashboard: dashboard ? cpuMsOf(dashboard.pid) - atReady.dashboard : 0,
    viewer: watched ? ownCpuMs() - atReady.own : 0,
  };
  process.stderr.write(
    `[bench] CPU from ready to stop: swarm run process ${cpu.run} ms${watched ? ` (with --metrics), swarm dashboard process ${cpu.dashboard} ms, the page and scraper stand-in ${cpu.viewer} ms` : ''}\n`,
  );
  child.kill('SIGTERM');
  dashboard?.kill('SIGTERM');
  const [code, dashboardCode] = await Promise.all([exited(child), dashboard ? exited(dashboard) : 0]);
  sendThenExit({
    type: 'stopped',
    completed: -1,
    failed: code === 0 && dashboardCode === 0 && !watchFailed ? 0 : 1,
    runCpuMs: cpu.run,
    observerCpuMs: cpu.dashboard + cpu.viewer,
  });
});

/** This process's CPU so far: in a watched round, mostly the viewer's. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1_000);
}

/**
 * CPU the `swarm run` process has used so far, from /proc (Linux; 10 ms ticks): less swayed by
 * other load on the machine than tasks/s, so a round's cost per task can be compared.
 */
function cpuMsOf(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat; after the ") " split they are 11 and 12 (0-based).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
