import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
/**
 * The bundled CLI, what `pnpm swarm` and an installed `swarm` run. Vitest's global setup
 * (test/support/build-cli.ts) builds it from the current sources once per run.
 */
export const SWARM_BIN = join(ROOT, 'packages/cli/dist/swarm.mjs');

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** An installed `swarm` executable to run instead of the repository's bundle. */
  bin?: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code once the process has closed its output. */
  exited: Promise<number | null>;
}

/** Starts the real `swarm` CLI as an OS process and collects its output. */
export function startSwarmCli(args: string[], options: CliOptions = {}): CliProcess {
  const [command, argv] = options.bin ? [options.bin, args] : [process.execPath, [SWARM_BIN, ...args]];
  const child = spawn(command, argv, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, SWARM_REDIS_URL: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return {
    child,
    exited,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
  };
}

/** Runs the real `swarm` CLI to completion. */
export async function swarmCli(
  args: string[],
  options: CliOptions & { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const proc = startSwarmCli(args, options);
  proc.child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    const code = await proc.exited;
    return { code, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The records of a `--json` stdout: every line that is not blank must be one JSON value. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
