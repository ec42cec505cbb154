import type { Delivery, FailResult, FindingInput } from '@swarm/core';
import { MemoryBus } from '@swarm/core';
import { aTask } from '@swarm/core/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runDelivery } from './run-task';

/** A delivery whose lease the test can take away, recording how it was settled. */
function fakeDelivery() {
  const lease = new AbortController();
  const settled: { completed?: FindingInput; failed?: string } = {};
  const task = aTask();
  const delivery: Delivery = {
    task,
    deliveryId: '1-0',
    attempt: 1,
    consumer: 'c',
    signal: lease.signal,
    complete: async (finding) => {
      settled.completed = finding;
      return { duplicate: false, findingId: 'f1' };
    },
    // The store refuses a settlement from a consumer that no longer holds the lease.
    fail: async (error): Promise<FailResult> => {
      settled.failed = (error as Error).message;
      return lease.signal.aborted ? { outcome: 'lost' } : { outcome: 'retry', delayMs: 1, attempt: 2 };
    },
    defer: async () => !lease.signal.aborted,
    extend: async () => !lease.signal.aborted,
    onLost: (listener) => {
      lease.signal.addEventListener('abort', listener, { once: true });
      return () => lease.signal.removeEventListener('abort', listener);
    },
  };
  return {
    delivery,
    settled,
    loseLease: () => lease.abort(new Error('lease lost: another consumer reclaimed this task')),
  };
}

const log = pino({ level: 'silent' });

describe('runDelivery when the lease is lost mid-task', () => {
  it("aborts the handler's signal and records nothing", async () => {
    const bus = new MemoryBus();
    const { delivery, settled, loseLease } = fakeDelivery();
    let seen: AbortSignal | undefined;
    const outcome = runDelivery(delivery, {
      bus,
      log,
      timeoutMs: 60_000,
      handler: ({ signal }) => {
        seen = signal;
        return new Promise(() => {});
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    loseLease();
    expect(await outcome).toEqual({
      outcome: 'lost',
      error: 'lease lost: another consumer reclaimed this task',
    });
    expect(seen?.aborted).toBe(true);
    expect(settled.completed).toBeUndefined();
    await bus.close();
  });
});
