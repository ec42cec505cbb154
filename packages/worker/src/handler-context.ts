import type { Bus, Task } from '@swarm/core';
import type { Logger } from 'pino';
import { askPeers } from './assist';
import type { HandlerContext } from './types';

/** The context of one task: the shard's context is read on first use, at most once. */
export function handlerContext(
  bus: Bus,
  task: Task,
  log: () => Logger,
  signal: () => AbortSignal,
  delivery: {
    /** The consumer running it: the worker a help request names as its asker. */
    consumer: string;
    deliveryId: string;
  },
): HandlerContext {
  let content: Promise<Buffer> | undefined;
  const contextBuffer = (): Promise<Buffer> => {
    content ??= loadContext(bus, task);
    return content;
  };
  return {
    task,
    deliveryId: delivery.deliveryId,
    contextBuffer,
    context: async () => (await contextBuffer()).toString('utf8'),
    get log() {
      return log();
    },
    get signal() {
      return signal();
    },
    askPeers: (request, options) => askPeers(bus, task, request, options, signal(), delivery.consumer),
  };
}

export async function loadContext(bus: Bus, task: Task): Promise<Buffer> {
  if (task.context === undefined)
    throw new Error(`task ${task.id} has no context: the shard posted it without one`);
  return bus.context.get(task.swarm, task.context);
}
