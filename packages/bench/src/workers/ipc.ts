import type { ChildMessage } from '../children';

/** The child side of WorkerChild: messages to and from the benchmark process. */

export function send(message: ChildMessage): void {
  process.send?.(message);
}

export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

export function intEnv(name: string): number {
  const value = Number(env(name));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Runs handler once when the parent sends this message type. */
export function onMessage(type: string, handler: (message: ChildMessage) => void): void {
  const listener = (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as ChildMessage).type === type) {
      process.off('message', listener);
      handler(message as ChildMessage);
    }
  };
  process.on('message', listener);
}

/** Runs handler for every message of this type. */
export function onEach(type: string, handler: (message: ChildMessage) => void): void {
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as ChildMessage).type === type)
      handler(message as ChildMessage);
  });
}

/** Sends a last message, then exits once it has been handed to the IPC channel. */
export function sendThenExit(message: ChildMessage, code = 0): void {
  if (!process.send) process.exit(code);
  const timer = setTimeout(() => process.exit(code), 2_000);
  process.send(message, () => {
    clearTimeout(timer);
    process.exit(code);
  });
}

/** Reports a fatal error to the parent and exits non-zero. */
export function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${message}\n`);
  sendThenExit({ type: 'error', message }, 1);
}

/** A worker must not outlive the benchmark that started it. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
