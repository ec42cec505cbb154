/**
 * Throughput worker for `swarm run`: the module-handler pool a user gets from a topology file,
 * run by the bundled CLI in its own process. This script only starts and stops that process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const child = spawn(
  process.execPath,
  [join(cliDir, 'dist/swarm.mjs'), 'run', join(dir, 'topology.yaml'), '--redis', env('BENCH_REDIS_URL')],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let stderr = '';
child.stderr.on('data', (chunk: Buffer) => {
  const before = stderr;
  stderr += chunk.toString();
  if (!before.includes('running;') && stderr.includes('running;')) send({ type: 'ready' });
});
child.on('exit', (code, signal) => {
  if (!stopping) fail(new Error(`swarm run exited early (${code ?? signal}): ${stderr.slice(-2_000)}`));
});

let stopping = false;
onMessage('stop', () => {
  stopping = true;
  child.once('exit', (code) => sendThenExit({ type: 'stopped', completed: -1, failed: code === 0 ? 0 : 1 }));
  child.kill('SIGTERM');
});
