import type { Bus, Clock, DeadLetter } from '@swarm/core';
import type { Logger } from 'pino';
import type { Observable, Subscription } from 'rxjs';
import { GatherTimeoutError, ShardStoppedError } from './errors';
import type { GatherResult, ShardFinding } from './types';

/** Dead letters ring no doorbell, so gather looks for them this often (bus time). */
export const DEAD_LETTER_POLL_MS = 250;
const DEAD_LETTER_PAGE = 1_000;

type ClockTimer = ReturnType<Clock['setTimeout']>;

export interface OutcomeWatch {
  bus: Bus;
  swarm: string;
  shard: string;
  clock: Clock;
  log: Logger;
  /** Posted task ids, in input order. */
  taskIds: string[];
  /** The shard's findings from a point no later than the post, live. */
  findings: Observable<ShardFinding>;
  /** Emits when the shard stops. */
  stopped: Observable<void>;
  timeoutMs?: number;
}

/**
 * Fan-in: resolves when every task has a finding or a dead letter, in input order. Findings come
 * from the live findings stream; dead letters from polling. Every path (done, timeout, stop, a
 * failed findings stream) unsubscribes and clears its timers.
 */
export function awaitOutcomes(watch: OutcomeWatch): Promise<GatherResult[]> {
  const { taskIds, clock, log } = watch;
  const open = new Set(taskIds);
  if (open.size === 0) return Promise.resolve([]);

  return new Promise<GatherResult[]>((resolve, reject) => {
    const outcomes = new Map<string, GatherResult>();
    const subscriptions: Subscription[] = [];
    let pollTimer: ClockTimer | undefined;
    let timeoutTimer: ClockTimer | undefined;
    let done = false;

    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      for (const s of subscriptions) s.unsubscribe();
      if (pollTimer) clock.clearTimeout(pollTimer);
      if (timeoutTimer) clock.clearTimeout(timeoutTimer);
      if (error) reject(error);
      else resolve(taskIds.map((id) => outcomes.get(id)!));
    };
    const settle = (result: GatherResult) => {
      if (done || !open.delete(result.taskId)) return;
      outcomes.set(result.taskId, result);
      if (open.size === 0) finish();
    };

    subscriptions.push(
      watch.findings.subscribe({
        next: (finding) => settle({ taskId: finding.taskId, finding }),
        error: (error: unknown) => finish(error),
      }),
      watch.stopped.subscribe(() => finish(new ShardStoppedError(watch.shard))),
    );
    if (done) {
      for (const s of subscriptions) s.unsubscribe();
      return;
    }

    if (watch.timeoutMs !== undefined) {
      const timeoutMs = watch.timeoutMs;
      timeoutTimer = clock.setTimeout(() => {
        const still = taskIds.filter((id) => open.has(id));
        log.warn({ open: still.length, total: taskIds.length, timeoutMs }, 'gather timed out');
        finish(new GatherTimeoutError(watch.shard, timeoutMs, taskIds.length, still));
      }, timeoutMs);
    }

    const poll = async () => {
      pollTimer = undefined;
      try {
        for (const letter of await readAllDeadLetters(watch.bus, watch.swarm)) {
          const taskId = letter.task?.id;
          if (taskId !== undefined && open.has(taskId)) settle({ taskId, deadLetter: letter });
        }
      } catch (error) {
        // Redis away for a moment: the next poll tries again, and the timeout still applies.
        log.warn({ err: error }, 'gather could not read dead letters');
      }
      if (!done) pollTimer = clock.setTimeout(poll, DEAD_LETTER_POLL_MS);
    };
    pollTimer = clock.setTimeout(poll, DEAD_LETTER_POLL_MS);
  });
}

/** bus.deadLetters reads the oldest `count` entries and has no cursor, so widen until all are read. */
async function readAllDeadLetters(bus: Bus, swarm: string): Promise<DeadLetter[]> {
  for (let count = DEAD_LETTER_PAGE; ; count *= 4) {
    const letters = await bus.deadLetters(swarm, { count });
    if (letters.length < count) return letters;
  }
}
