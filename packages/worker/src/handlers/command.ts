import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Task } from '@swarm/core';
import { describeValue } from '../result';
import type { Handler, HandlerContext, HandlerResult } from '../types';
import { claudeFinding, notClaudeOutput, readClaudeResult } from './claude-output';

/** How stdout becomes the finding: `finding` (JSON `{ summary, data? }` or plain text) or `claude`. */
export type CommandOutput = 'finding' | 'claude';

export interface CommandHandlerSpec {
  command: string[];
  passDataAsArgs?: boolean | undefined;
  env?: Record<string, string> | undefined;
  output?: CommandOutput | undefined;
}

/** Most stdout a command may print; past it the process group is killed and the task fails. */
export const MAX_STDOUT_BYTES = 1024 * 1024;
/** How much of stderr a failure quotes (the end of it). */
export const STDERR_TAIL_BYTES = 2048;
/** The bus stores this much of an error message (MAX_ERROR_MESSAGE in core), from its start. */
const MAX_ERROR_CHARS = 2_000;
/** After the program exits, how long its stdout/stderr may stay open (held by a leftover child). */
const CLOSE_GRACE_MS = 1_000;

/**
 * A handler that runs a program per task, never through a shell: the task arrives as JSON on
 * stdin, the finding leaves on stdout. The program runs in its own process group, killed as a
 * whole on timeout, on a lost lease, or when it prints too much.
 */
export function commandHandler(spec: CommandHandlerSpec, baseDir: string): Handler {
  const [program, ...args] = spec.command;
  if (program === undefined || program === '')
    throw new Error('command handler needs a program: command: [program, ...args]');
  // A path is relative to baseDir; a bare name is looked up on PATH.
  const file = program.includes('/') ? resolve(baseDir, program) : program;
  return async (ctx: HandlerContext): Promise<HandlerResult> => {
    const { task } = ctx;
    const argv = [...args, ...dataArgs(spec, task)];
    const env = commandEnv(spec, task);
    let tempDir: string | undefined;
    try {
      if (task.context !== undefined) {
        const content = await ctx.contextBuffer();
        tempDir = await mkdtemp(join(tmpdir(), 'swarm-context-'));
        const contextFile = join(tempDir, 'context');
        await writeFile(contextFile, content, { mode: 0o600 });
        env.SWARM_CONTEXT_FILE = contextFile;
      }
      ctx.signal.throwIfAborted();
      const run = await runProcess(file, argv, {
        cwd: baseDir,
        env,
        input: JSON.stringify(task),
        signal: ctx.signal,
      });
      ctx.log.debug({ program, code: run.code, signal: run.signal }, 'command exited');
      return spec.output === 'claude' ? interpretClaude(run) : interpret(run);
    } finally {
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    }
  };
}

/** The task's data becomes arguments only when the spec says so, and only as plain strings. */
function dataArgs(spec: CommandHandlerSpec, task: Task): string[] {
  if (!spec.passDataAsArgs || task.data === null) return [];
  const data = task.data;
  if (Array.isArray(data) && data.every((item) => typeof item === 'string')) return data as string[];
  throw new Error(
    `passDataAsArgs needs the task's data to be an array of strings, got ${describeValue(data)}`,
  );
}

const SWARM_SECRETS = ['SWARM_REDIS_URL', 'REDIS_URL'];

function commandEnv(spec: CommandHandlerSpec, task: Task): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  // The swarm's own Redis credentials are not the command's business: a CLI agent may log its
  // environment. A topology that means to pass them says so in `env`.
  for (const name of SWARM_SECRETS) delete inherited[name];
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...spec.env,
    SWARM_SWARM: task.swarm,
    SWARM_TASK_ID: task.id,
    SWARM_TASK_TYPE: task.type,
    SWARM_ATTEMPT: String(task.attempt),
  };
  // Never let the pool's own environment pose as this task's context.
  delete env.SWARM_CONTEXT_REF;
  delete env.SWARM_CONTEXT_FILE;
  if (task.context !== undefined) env.SWARM_CONTEXT_REF = task.context;
  return env;
}

interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderrTail: string;
}

function exitFailure(run: ProcessRun): Error {
  const why = run.signal !== null ? `killed by signal ${run.signal}` : `exit code ${run.code}`;
  let tail = run.stderrTail.trim();
  if (!tail) return new Error(`${why} (stderr was empty)`);
  // The bus keeps the first MAX_ERROR_CHARS of an error; the end of stderr is what matters.
  const room = MAX_ERROR_CHARS - why.length - 2;
  if (tail.length > room) tail = `…${tail.slice(-(room - 1))}`;
  return new Error(`${why}: ${tail}`);
}

function interpret(run: ProcessRun): HandlerResult {
  if (run.code !== 0) throw exitFailure(run);
  const text = run.stdout.toString('utf8').trim();
  if (text === '')
    throw new Error(
      'command printed nothing: print a summary, or a JSON object { summary, data? }, on stdout',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof parsed === 'string') return parsed;
  if (
    parsed !== null &&
    typeof parsed === 'object' &&
    typeof (parsed as { summary?: unknown }).summary === 'string'
  )
    return parsed as HandlerResult;
  return text;
}

/**
 * `output: claude`. claude prints its result on stdout even when the run fails (and then exits
 * non-zero): an error result's own message says more than an exit code and stderr.
 */
function interpretClaude(run: ProcessRun): HandlerResult {
  const text = run.stdout.toString('utf8').trim();
  const claude = readClaudeResult(text);
  if (claude && (run.code === 0 || claude.is_error === true || claude.subtype !== 'success'))
    return claudeFinding(claude);
  if (run.code !== 0) throw exitFailure(run);
  throw notClaudeOutput(text);
}

/** Kills every process in the child's group; the child leads its own group (detached). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

function spawnFailure(program: string, cwd: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT' && !existsSync(cwd))
    return new Error(`cannot run ${program}: working directory ${cwd} does not exist`);
  if (error.code === 'ENOENT' && existsSync(program))
    return new Error(`cannot run ${program}: the interpreter on its #! line was not found (ENOENT)`);
  if (error.code === 'ENOENT') return new Error(`cannot run ${program}: no such program (ENOENT)`);
  if (error.code === 'EACCES')
    return new Error(`cannot run ${program}: permission denied (EACCES); is it executable?`);
  return new Error(`cannot run ${program}: ${error.message}`);
}

function runProcess(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input: string; signal: AbortSignal },
): Promise<ProcessRun> {
  const { signal } = options;
  return new Promise<ProcessRun>((resolvePromise, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env,
        shell: false,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      reject(spawnFailure(file, options.cwd, error as NodeJS.ErrnoException));
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let graceTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      settle();
    };
    const stopEarly = (error: unknown) => {
      killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(() => reject(error));
    };
    const onAbort = () => stopEarly(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      killGroup(child);
      finish(() => reject(spawnFailure(file, options.cwd, error)));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES)
        stopEarly(new Error('output over 1 MiB: the process group was killed'));
      else stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > 4 * STDERR_TAIL_BYTES) stderr = stderr.subarray(-STDERR_TAIL_BYTES);
    });
    // A program that exits without reading its stdin makes the write fail with EPIPE: not an error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input);

    child.on('exit', () => {
      if (settled) return;
      // Output held open by a leftover process of the group must not hold the task.
      graceTimer = setTimeout(() => {
        killGroup(child);
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, CLOSE_GRACE_MS);
    });
    child.on('close', (code: number | null, exitSignal: NodeJS.Signals | null) => {
      finish(() =>
        resolvePromise({
          code,
          signal: exitSignal,
          stdout: Buffer.concat(stdout),
          stderrTail: stderr.subarray(-STDERR_TAIL_BYTES).toString('utf8'),
        }),
      );
    });
  });
}
