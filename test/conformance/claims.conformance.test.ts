import {
  type Bus,
  type Claim,
  type Delivery,
  type Finding,
  InvalidClaimError,
  parseClaimHandle,
  type Usage,
} from '@swarm/core';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../packages/core/src/bus/transport';
import { clusterEnv, memoryEnv, redisEnv, settle, type TransportEnv, uniqueSwarm, until } from './transports';

describe.each([
  ['MemoryBus', memoryEnv()],
  ['RedisBus', redisEnv()],
  ['RedisBus on a cluster', clusterEnv()],
])('%s claims', (_name, factory) => {
  let env: TransportEnv;
  let swarm: string;
  const subscriptions: Subscription[] = [];

  /** A running consumer that holds what it is handed without settling it. */
  const pool = (bus: Bus, leaseMs: number) => {
    const deliveries: Delivery[] = [];
    subscriptions.push(
      bus.consume(swarm, 'ask', { leaseMs, blockMs: 50 }).subscribe((d) => deliveries.push(d)),
    );
    return deliveries;
  };
  const claim = async (bus: Bus, options: Parameters<Bus['claim']>[2] = {}): Promise<Claim> => {
    const claimed = await settle(env, bus.claim(swarm, 'ask', { waitMs: 2_000, ...options }));
    if (!claimed) throw new Error('no task claimed');
    return claimed;
  };

  afterAll(() => factory.dispose());
  beforeEach(async () => {
    env = await factory.create();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await env.teardown();
  });

  it('claims a task with a handle that names swarm, type, entry and consumer, and reports it once', async () => {
    const bus = env.bus();
    const posted = await bus.post(swarm, 'ask', { description: 'why?', data: { n: 1 }, context: 'ref1' });
    const claimed = await claim(bus);
    expect(claimed.task).toMatchObject({ id: posted.id, description: 'why?', data: { n: 1 }, attempt: 1 });
    const handle = parseClaimHandle(claimed.handle);
    expect(handle).toMatchObject({ swarm, type: 'ask' });
    expect(claimed.leaseMs).toBe(600_000);

    // Another process reports it: nothing but the handle crosses over.
    const report = await env
      .bus()
      .report(claimed.handle, { summary: 'because', data: { ok: true }, tags: ['t'] });
    expect(report.outcome).toBe('completed');
    expect(await env.bus().report(claimed.handle, { summary: 'again' })).toEqual({ outcome: 'settled' });
    const findings = await bus.readFindings(swarm);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      taskId: posted.id,
      summary: 'because',
      data: { ok: true },
      tags: ['t'],
      workerId: handle.consumer,
      attempt: 1,
      contextVersion: 'ref1',
    });
  });

  it('keeps what a model worker spent on the finding, through the stream and the broadcast', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const live: Finding[] = [];
    subscriptions.push(bus.findings$(swarm, { from: 'now' }).subscribe((f) => live.push(f)));
    await env.elapse(50);
    const tokens = {
      inputTokens: 1_200,
      cachedInputTokens: 1_000,
      cacheWriteTokens: 0,
      outputTokens: 80,
      reasoningTokens: 0,
      costUsd: 0.0005,
    };
    const model = { provider: 'anthropic', model: 'claude-haiku-4-5' };
    const usage: Usage = {
      ...model,
      ...tokens,
      priceVersion: 'test',
      calls: [{ ...model, ...tokens, outcome: 'answered', ms: 412 }],
    };
    const claimed = await claim(bus);
    await bus.report(claimed.handle, { summary: 'costed', usage });
    // An actor's published finding keeps it too.
    await bus.publish(swarm, { type: 'digest', summary: 'costed digest', usage });
    await until(env, () => live.length === 2);
    expect(live.map((f) => f.usage)).toEqual([usage, usage]);
    expect((await env.bus().readFindings(swarm)).map((f) => f.usage)).toEqual([usage, usage]);
  });

  it('answers undefined when no task comes within the wait', async () => {
    const bus = env.bus();
    expect(await settle(env, bus.claim(swarm, 'ask', { waitMs: 200 }))).toBeUndefined();
    expect(await settle(env, bus.claim(swarm, 'ask'))).toBeUndefined();
  });

  it('waits for a task posted while it waits', async () => {
    const bus = env.bus();
    const waiting = bus.claim(swarm, 'ask', { waitMs: 5_000 });
    await env.elapse(100);
    await env.bus().post(swarm, 'ask', { data: 'late' });
    const claimed = await settle(env, waiting);
    expect(claimed?.task.data).toBe('late');
  });

  it('stops waiting when its signal aborts, and claims nothing after', async () => {
    const bus = env.bus();
    const gone = new AbortController();
    const waiting = bus.claim(swarm, 'ask', { waitMs: 60_000, signal: gone.signal });
    await env.elapse(100);
    gone.abort();
    expect(await settle(env, waiting)).toBeUndefined();
    await bus.post(swarm, 'ask', { data: 'after' });
    const claimed = await claim(bus);
    expect(claimed.task).toMatchObject({ data: 'after', attempt: 1 });
  });

  it("holds a claim for its own lease, not a pool's shorter one", async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(bus, { leaseMs: 60_000 });
    const taken = pool(env.bus(), 100);
    await env.elapse(1_000);
    expect(taken).toHaveLength(0);
    expect((await bus.report(claimed.handle, { summary: 'mine' })).outcome).toBe('completed');
  });

  it('lets another worker take a lapsed claim, and refuses the late report', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(bus, { leaseMs: 200 });
    const taken = pool(env.bus(), 60_000);
    await until(env, () => taken.length === 1);
    expect(taken[0]?.task.attempt).toBe(2);
    const owner = taken[0]?.consumer;
    expect(await bus.report(claimed.handle, { summary: 'late' })).toEqual({ outcome: 'lost', owner });
    expect(await bus.renewClaim(claimed.handle)).toEqual({ outcome: 'lost', owner });
    expect(await taken[0]?.complete({ summary: 'on time' })).toMatchObject({ duplicate: false });
    expect(await bus.report(claimed.handle, { summary: 'later still' })).toEqual({ outcome: 'settled' });
    expect((await bus.readFindings(swarm)).map((f) => f.summary)).toEqual(['on time']);
  });

  it('refuses a report whose task is taken over between its look and its write', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(bus, { leaseMs: 200 });
    await env.elapse(300);
    // The reporter looks (it still owns the task), then a worker takes the task over, then the
    // report's write lands: the owner check inside the completion refuses it.
    const transport = (bus as unknown as { transport: Transport }).transport;
    const openQueue = transport.openQueue.bind(transport);
    let thief: Claim | undefined;
    transport.openQueue = (...args) => {
      const queue = openQueue(...args);
      const inspect = queue.inspect.bind(queue);
      queue.inspect = async (entryId) => {
        const seen = await inspect(entryId);
        thief ??= await settle(env, env.bus().claim(swarm, 'ask', { waitMs: 1_000, leaseMs: 60_000 }));
        return seen;
      };
      return queue;
    };
    const late = await bus.report(claimed.handle, { summary: 'late' });
    expect(thief?.task.attempt).toBe(2);
    expect(late).toEqual({ outcome: 'lost', owner: parseClaimHandle(thief?.handle ?? '').consumer });
    expect((await env.bus().report(thief?.handle ?? '', { summary: 'on time' })).outcome).toBe('completed');
    expect((await bus.readFindings(swarm)).map((f) => f.summary)).toEqual(['on time']);
  });

  it('releases a claimed task unworked: back at once, at the same attempt, no error', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', { data: 'x' });
    const first = await claim(bus);
    expect(await env.bus().releaseClaim(first.handle)).toEqual({ outcome: 'released' });
    expect(await bus.releaseClaim(first.handle)).toEqual({ outcome: 'settled' });
    const again = await claim(bus);
    expect(again.task).toMatchObject({ data: 'x', attempt: 1, errors: [] });
  });

  it("takes over a dead pool worker's task once that worker's lease has run out", async () => {
    const dying = env.bus();
    await dying.post(swarm, 'ask', { data: 'orphan' });
    const held = pool(dying, 300);
    await until(env, () => held.length === 1);
    await dying.close();
    // The claim's own lease is 10 minutes; the dead worker's 300 ms is what counts.
    const claimed = await claim(env.bus(), { waitMs: 5_000 });
    expect(claimed.task).toMatchObject({ data: 'orphan', attempt: 2 });
  });

  it('renews a claim, to a new lease when given one', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(bus, { leaseMs: 300 });
    expect(await env.bus().renewClaim(claimed.handle, { leaseMs: 60_000 })).toEqual({
      outcome: 'renewed',
      leaseMs: 60_000,
    });
    const taken = pool(env.bus(), 100);
    await env.elapse(1_000);
    expect(taken).toHaveLength(0);
    // Renewed without a lease, it keeps the one it has.
    expect(await env.bus().renewClaim(claimed.handle)).toEqual({ outcome: 'renewed', leaseMs: 60_000 });
    await env.elapse(500);
    expect(taken).toHaveLength(0);
    expect((await bus.report(claimed.handle, { summary: 'done' })).outcome).toBe('completed');
    expect(await bus.renewClaim(claimed.handle)).toEqual({ outcome: 'settled' });
  });

  it('fails a claim into a retry with the error recorded, or straight into the dead letters', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', { data: 'a' });
    const first = await claim(bus);
    const retried = await bus.failClaim(first.handle, 'model refused');
    expect(retried).toMatchObject({ outcome: 'retry', attempt: 2 });
    expect(await bus.failClaim(first.handle, 'twice')).toEqual({ outcome: 'settled' });
    const second = await claim(bus, { waitMs: 10_000 });
    expect(second.task).toMatchObject({ data: 'a', attempt: 2 });
    expect(second.task.errors).toEqual([expect.objectContaining({ attempt: 1, message: 'model refused' })]);
    expect(await bus.failClaim(second.handle, 'hopeless', { retry: false })).toMatchObject({
      outcome: 'dead',
      reason: 'failed without retry: hopeless',
    });
    const [dead] = await bus.deadLetters(swarm);
    expect(dead?.errors.map((e) => e.message)).toEqual(['model refused', 'hopeless']);
  });

  it('dead-letters a claim failed at maxAttempts', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', {});
    const claimed = await claim(bus);
    expect(await bus.failClaim(claimed.handle, 'no', { maxAttempts: 1 })).toMatchObject({ outcome: 'dead' });
    expect(await bus.deadLetters(swarm)).toHaveLength(1);
  });

  it('records a task past its deadline as expired and claims the next one', async () => {
    const bus = env.bus();
    await bus.post(swarm, 'ask', { data: 'stale', deadline: bus.clock.now() - 1 });
    await bus.post(swarm, 'ask', { data: 'fresh' });
    const claimed = await claim(bus);
    expect(claimed.task.data).toBe('fresh');
    const [expired] = await bus.readFindings(swarm);
    expect(expired).toMatchObject({ tags: ['expired'], summary: 'expired: not started before its deadline' });
  });

  it('dead-letters an entry it cannot read and claims the next one', async () => {
    const bus = env.bus();
    await env.appendRaw(swarm, 'ask', { task: 'not json' });
    await bus.post(swarm, 'ask', { data: 'good' });
    const claimed = await claim(bus);
    expect(claimed.task.data).toBe('good');
    // Burying it is not awaited by the claim: look until it is there.
    let letters = await bus.deadLetters(swarm);
    for (let i = 0; letters.length === 0 && i < 200; i++) {
      await env.elapse(25);
      letters = await bus.deadLetters(swarm);
    }
    expect(letters.map((l) => l.reason)).toEqual([expect.stringMatching(/^malformed entry: /)]);
  });

  it('refuses a handle that does not name a claim', async () => {
    const bus = env.bus();
    for (const handle of [
      '',
      'a/b/c',
      `${swarm}/ask/not-an-id/c1`,
      `${swarm}/ask/1-0/c1/extra`,
      'x y/ask/1-0/c',
    ])
      await expect(bus.report(handle, { summary: 'x' })).rejects.toBeInstanceOf(InvalidClaimError);
  });
});
