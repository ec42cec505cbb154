import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Every child process a benchmark starts (workers, redis-server), so that an error, Ctrl-C
 * or a plain exit of the parent never leaves one behind.
 */

export interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGKILLs every tracked child still running (synchronous: safe in an 'exit' handler). */
export function killAllChildren(): void {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  live.clear();
}

process.once('exit', killAllChildren);

const isMessage = (value: unknown): value is ChildMessage =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

/** A TypeScript worker script run by node + the tsx loader, talking over IPC. */
export class WorkerChild {
  readonly #proc: ChildProcess;
  readonly #inbox: ChildMessage[] = [];
  readonly #waiters = new Set<() => void>();
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<void>;

  constructor(
    readonly name: string,
    script: URL,
    env: Record<string, string>,
  ) {
    const loader = import.meta.resolve('tsx');
    this.#proc = track(
      spawn(process.execPath, ['--import', loader, fileURLToPath(script)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...env },
      }),
    );
    this.#proc.on('message', (message: unknown) => {
      if (isMessage(message)) this.#inbox.push(message);
      this.#notify();
    });
    this.#exited = new Promise<void>((resolve) => {
      this.#proc.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve();
      });
    });
  }

  #notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  send(message: ChildMessage): void {
    if (this.#proc.connected) this.#proc.send(message);
  }

  /** The next message of this type; rejects if the child exits first or the timeout passes. */
  async next(type: string, timeoutMs: number): Promise<ChildMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.type === type);
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as ChildMessage;
      const error = this.#inbox.find((m) => m.type === 'error');
      if (error) throw new Error(`${this.name} failed: ${String(error.message)}`);
      if (this.#exit)
        throw new Error(
          `${this.name} exited (code ${this.#exit.code}, signal ${this.#exit.signal}) before '${type}'`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** Asks the child to stop and returns its 'stopped' message; SIGKILLs it if it has not exited after graceMs. */
  async stop(graceMs = 15_000): Promise<ChildMessage | undefined> {
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs);
    try {
      if (this.#exit) return undefined;
      this.send({ type: 'stop' });
      const stopped = await this.next('stopped', graceMs).catch(() => undefined);
      await this.#exited;
      return stopped;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (!this.#exit) this.#proc.kill('SIGKILL');
  }

  /** Undefined while running; otherwise how it ended ("code 1", "signal SIGKILL"). */
  get exitStatus(): string | undefined {
    if (!this.#exit) return undefined;
    return this.#exit.signal ? `signal ${this.#exit.signal}` : `code ${this.#exit.code}`;
  }
}
