import { type Finding, MemoryBus, type PostedTask, type TaskInput } from '@swarm/core';
import { aTask } from '@swarm/core/testing';
import { describe, expect, it } from 'vitest';
import { ASSIST_TYPE, AssistTimeoutError, askPeers } from './assist';

/** A MemoryBus whose posts take a while, as they do when Redis is slow. */
class SlowPostBus extends MemoryBus {
  constructor(readonly postDelayMs: number) {
    super();
  }
  override async post(swarm: string, type: string, task: TaskInput): Promise<PostedTask> {
    await new Promise((resolve) => setTimeout(resolve, this.postDelayMs));
    return super.post(swarm, type, task);
  }
}

const asker = (swarm: string) => aTask({ id: 'asker-1', swarm, type: 'research' });

describe('askPeers', () => {
  it('times out with a typed error, even while its request is still being posted', async () => {
    const bus = new SlowPostBus(150);
    // Vitest fails the run on an unhandled rejection: the timeout firing mid-post must not be one.
    const error = await askPeers(bus, asker('s1'), 'help', { timeout: 20 }, undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AssistTimeoutError);
    expect((error as AssistTimeoutError).code).toBe('SWARM_ASSIST_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await bus.close();
  });

  it('gives up with the abort reason, and posts nothing, when aborted before the post', async () => {
    const bus = new MemoryBus();
    const controller = new AbortController();
    const asking = askPeers(bus, asker('s2'), 'help', { timeout: 60_000 }, controller.signal);
    controller.abort(new Error('task timed out'));
    await expect(asking).rejects.toThrow('task timed out');
    expect((await bus.status('s2')).types.find((t) => t.type === ASSIST_TYPE)?.waiting ?? 0).toBe(0);
    await bus.close();
  });

  it('does not take an "expired" record as the answer', async () => {
    const bus = new MemoryBus();
    const asking = askPeers(bus, asker('s3'), 'help', { timeout: 300 }, undefined);
    const consumed: Finding[] = [];
    const sub = bus.consume('s3', ASSIST_TYPE).subscribe(async (d) => {
      await d.complete({ summary: 'expired: not started before its deadline', tags: ['expired'] });
      consumed.push({} as Finding);
    });
    await expect(asking).rejects.toBeInstanceOf(AssistTimeoutError);
    expect(consumed).toHaveLength(1);
    sub.unsubscribe();
    await bus.close();
  });

  it('accepts a fractional timeout and refuses a missing one with a coded error', async () => {
    const bus = new MemoryBus();
    await expect(askPeers(bus, asker('s4'), 'help', { timeout: 10.5 }, undefined)).rejects.toBeInstanceOf(
      AssistTimeoutError,
    );
    await expect(
      askPeers(bus, asker('s4'), 'help', {} as { timeout: number }, undefined),
    ).rejects.toMatchObject({ code: 'SWARM_INVALID_TASK' });
    await bus.close();
  });
});
