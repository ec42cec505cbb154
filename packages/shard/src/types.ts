import type { Bus, Clock, DeadLetter, Finding, TaskInput } from '@swarm/core';
import type { Logger } from 'pino';

export interface ShardOptions {
  bus: Bus;
  swarm: string;
  id: string;
  /** What this shard knows about (default 'general'). */
  specialization?: string;
  /** Directory that context file globs are relative to (default: the current directory). */
  baseDir?: string;
  logger?: Logger;
  /**
   * The bus's time, for gather's dead-letter polling and timeout. Defaults to a MemoryBus's own
   * clock (so a ManualClock drives it) and to the system clock for any other bus.
   */
  clock?: Clock;
}

/** A finding of this shard's, marked stale when computed on a context version other than the shard's current one. */
export interface ShardFinding extends Finding {
  stale: boolean;
}

/** A task as a shard posts it: the shard fills in `parent` and `context`. */
export type ShardTaskInput = Omit<TaskInput, 'parent' | 'context'>;

/** One task's outcome in gather(), in input order. */
export type GatherResult =
  | { taskId: string; finding: ShardFinding }
  | { taskId: string; deadLetter: DeadLetter };

export interface GatherOptions {
  /** Reject with GatherTimeoutError when tasks are still open after this long (default: wait). */
  timeoutMs?: number;
}
