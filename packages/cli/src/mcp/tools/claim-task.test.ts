import { ManualClock, MemoryBus } from '@swarm/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SwarmAllowList } from '../allow-list';
import { ContextPages } from '../context-pages';
import type { ToolEnv } from '../tool';
import { claimTask } from './claim-task';

function envOf(bus: MemoryBus): ToolEnv {
  return {
    bus,
    allowed: new SwarmAllowList([]),
    pages: new ContextPages(bus),
    log: pino({ level: 'silent' }),
    redisReady: async () => {},
  };
}

describe('claim_task', () => {
  it('hands a task back at once when its client went away before the claim could reach it', async () => {
    const clock = new ManualClock();
    const bus = new MemoryBus({ clock });
    const posted = await bus.post('hive', 'ask', { context: await bus.context.put('hive', 'the context') });
    const gone = new AbortController();
    gone.abort();
    const result = await claimTask.run({ swarm: 'hive', type: 'ask', waitMs: 0 }, envOf(bus), gone.signal);
    expect(result).toEqual({ outcome: 'no-task', swarm: 'hive', type: 'ask' });
    // Back after its first backoff, not after the claim's ten-minute lease.
    await clock.advance(60_000);
    const next = await bus.claim('hive', 'ask');
    expect(next?.task).toMatchObject({ id: posted.id, attempt: 2 });
    expect(next?.task.errors.map((e) => e.message)).toEqual([
      'the MCP client went away before it got this claim',
    ]);
    await bus.close();
  });

  it('keeps a task it claimed for a client still there', async () => {
    const bus = new MemoryBus({ clock: new ManualClock() });
    const posted = await bus.post('hive', 'ask', {});
    const result = await claimTask.run(
      { swarm: 'hive', type: 'ask' },
      envOf(bus),
      new AbortController().signal,
    );
    expect(result).toMatchObject({ outcome: 'claimed', task: { id: posted.id }, context: null });
    await bus.close();
  });
});
