import { type ChildProcess, fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from '@swarm/core';
import { toError } from '../result';
import type { Handler, HandlerContext } from '../types';
import type { ModuleHandlerSpec } from './module';

/** The file each isolated task runs in: plain JavaScript, so it starts under any loader or none. */
const RUNNER = fileURLToPath(new URL('./isolated-runner.mjs', import.meta.url));
/** How long a child may take to exit after it has reported. */
const EXIT_GRACE_MS = 2_000;

/** Sent to the child: everything the handler may see, so the child needs no bus connection. */
export interface RunMessage {
  kind: 'run';
  modulePath: string;
  exportName: string | undefined;
  task: Task;
  context: Buffer | undefined;
  contextError: string | undefined;
  log: { level: string; bindings: Record<string, unknown> };
}

/** Sent back by the child. */
export type ReplyMessage = { kind: 'result'; value: unknown } | { kind: 'error'; message: string };

/**
 * A module handler run in a fresh child process per task: the module is imported anew each
 * time, so no state crosses tasks, and a handler that hangs or leaks is killed with its process
 * group. The parent reads the context and sends it along with the task.
 */
export function isolatedHandler(spec: ModuleHandlerSpec, baseDir: string): Handler {
  const modulePath = resolve(baseDir, spec.module);
  if (!isFile(modulePath)) throw new Error(`handler module not found: ${modulePath}`);
  return async (ctx: HandlerContext) => {
    let context: Buffer | undefined;
    let contextError: string | undefined;
    if (ctx.task.context !== undefined) {
      try {
        context = await ctx.contextBuffer();
      } catch (error) {
        contextError = toError(error).message;
      }
    }
    ctx.signal.throwIfAborted();
    return runInChild(
      {
        kind: 'run',
        modulePath,
        exportName: spec.export,
        task: ctx.task,
        context,
        contextError,
        log: { level: ctx.log.level, bindings: ctx.log.bindings() },
      },
      ctx,
    );
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function runInChild(message: RunMessage, ctx: HandlerContext): Promise<never> {
  const { signal } = ctx;
  return new Promise((resolvePromise, reject) => {
    const child = fork(RUNNER, [], {
      execArgv: childExecArgv(process.execArgv),
      // Its own process group, so a timeout kills whatever the handler started too.
      detached: true,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      settle();
      if (child.exitCode === null && child.signalCode === null)
        graceTimer = setTimeout(() => killGroup(child), EXIT_GRACE_MS);
    };
    const onAbort = () => {
      killGroup(child);
      finish(() => reject(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('message', (reply: ReplyMessage) => {
      if (reply.kind === 'result') finish(() => resolvePromise(reply.value as never));
      else finish(() => reject(new Error(reply.message)));
    });
    child.on('error', (error) => {
      killGroup(child);
      finish(() => reject(new Error(`handler process failed: ${error.message}`)));
    });
    child.on('exit', (code, exitSignal) => {
      if (graceTimer) clearTimeout(graceTimer);
      // Whatever the handler left running in its group goes with it.
      killGroup(child);
      finish(() =>
        reject(
          new Error(
            exitSignal !== null
              ? `handler process was killed by signal ${exitSignal} before reporting a result`
              : `handler process exited with code ${code} before reporting a result`,
          ),
        ),
      );
    });
    ctx.log.debug({ pid: child.pid }, 'handler process started');
    child.send(message, (error) => {
      if (error) {
        killGroup(child);
        finish(() => reject(new Error(`could not hand the task to its process: ${error.message}`)));
      }
    });
  });
}

/** Flags that made the parent run something other than a file, or that would clash in a child. */
const DROP_WITH_VALUE = new Set(['-e', '--eval', '-p', '--print']);
const DROP = /^(--eval=|--print=|--input-type|--inspect|--debug|--test|--watch|-i$|--interactive$)/;

/** The parent's execArgv (so loaders such as tsx carry over), minus what would misfire in a child. */
export function childExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (DROP_WITH_VALUE.has(arg)) i++;
    else if (!DROP.test(arg)) kept.push(arg);
  }
  return kept;
}
