import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Vitest's global setup: builds the CLI bundle (packages/cli/dist) once per run, so every test
 * that starts `swarm` as a process runs the current sources, as a user's `swarm` would.
 */
export default function buildCli(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '../../packages/cli/build.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
