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
  it('claims nothing for a client that went away before the claim was made', async () => {
    const clock = new ManualClock();
    const bus = new MemoryBus({ clock });
    const posted = await bus.post('hive', 'ask', { context: await bus.context.put('hive', 'the context') });
    const gone = new AbortController();
    gone.abort();
    const result = await claimTask.run({ swarm: 'hive', type: 'ask', waitMs: 0 }, envOf(bus), gone.signal);
    expect(result).toEqual({ outcome: 'no-task', swarm: 'hive', type: 'ask' });
    // Never handed out: the next claim gets it as a first attempt, at once.
    const next = bus.claim('hive', 'ask');
    await clock.advance(10);
    expect((await next)?.task).toMatchObject({ id: posted.id, attempt: 1, errors: [] });
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
