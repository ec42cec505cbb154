import { type Bus, LedgerError, type ReserveRequest } from '@swarm/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterEnv, memoryEnv, redisEnv, type TransportEnv, uniqueSwarm } from './transports';

const request = (holder: string, overrides: Partial<ReserveRequest> = {}): ReserveRequest => ({
  holder,
  usd: 0.01,
  tokens: 1_000,
  budgets: [],
  rates: [],
  holdMs: 60_000,
  ...overrides,
});

describe.each([
  ['MemoryBus', memoryEnv()],
  ['RedisBus', redisEnv()],
  ['RedisBus on a cluster', clusterEnv()],
])('%s ledger: budgets and rate limits shared by every process', (_name, factory) => {
  let env: TransportEnv;
  let swarm: string;
  let a: Bus;
  let b: Bus;

  afterAll(() => factory.dispose());
  beforeEach(async () => {
    env = await factory.create();
    swarm = uniqueSwarm();
    // Two buses: two processes sharing one store.
    a = env.bus();
    b = env.bus();
  });
  afterEach(() => env.teardown());

  const budget = async (name: string) => (await a.ledger.budgets(swarm)).find((x) => x.name === name);

  it('reserves the worst case, then settles to the real spend', async () => {
    const budgets = [{ name: 'swarm', usd: 1 }];
    expect(await a.ledger.reserve(swarm, request('t1', { budgets }))).toEqual({ outcome: 'reserved' });
    expect(await budget('swarm')).toEqual({
      name: 'swarm',
      spentUsd: 0,
      spentTokens: 0,
      heldUsd: 0.01,
      heldTokens: 1_000,
      limitUsd: 1,
    });
    await b.ledger.settle(swarm, { holder: 't1', usd: 0.004, tokens: 400, budgets: ['swarm'], rates: [] });
    expect(await budget('swarm')).toMatchObject({
      spentUsd: 0.004,
      spentTokens: 400,
      heldUsd: 0,
      heldTokens: 0,
    });
  });

  it('never lets two processes pass a budget between them', async () => {
    const budgets = [{ name: 'swarm', usd: 0.05 }];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).ledger.reserve(swarm, request(`t${i}`, { budgets })),
      ),
    );
    expect(results.filter((r) => r.outcome === 'reserved')).toHaveLength(5);
    expect(results.filter((r) => r.outcome === 'wait')).toHaveLength(5);
    expect((await budget('swarm'))?.heldUsd).toBeCloseTo(0.05, 10);
  });

  it('says a budget is exhausted when even with nothing held the work cannot fit', async () => {
    const budgets = [{ name: 'pool:ask', usd: 0.015, tokens: 10_000 }];
    expect((await a.ledger.reserve(swarm, request('t1', { budgets }))).outcome).toBe('reserved');
    expect(await b.ledger.reserve(swarm, request('t2', { budgets }))).toEqual({
      outcome: 'wait',
      waitMs: 1_000,
      limit: 'pool:ask',
    });
    await a.ledger.settle(swarm, { holder: 't1', usd: 0.01, tokens: 900, budgets: ['pool:ask'], rates: [] });
    expect(await b.ledger.reserve(swarm, request('t2', { budgets }))).toEqual({
      outcome: 'exhausted',
      budget: 'pool:ask',
    });
  });

  it('counts tokens against a token budget as it counts dollars', async () => {
    const budgets = [{ name: 'swarm', tokens: 1_500 }];
    expect((await a.ledger.reserve(swarm, request('t1', { budgets }))).outcome).toBe('reserved');
    await a.ledger.settle(swarm, { holder: 't1', usd: 0.01, tokens: 1_000, budgets: ['swarm'], rates: [] });
    expect(await a.ledger.reserve(swarm, request('t2', { budgets }))).toEqual({
      outcome: 'exhausted',
      budget: 'swarm',
    });
  });

  it('replaces a holder’s reservation when it reserves again, as a reclaimed task does', async () => {
    const budgets = [{ name: 'swarm', usd: 1 }];
    const rates = [{ name: 'anthropic', concurrency: 1 }];
    await a.ledger.reserve(swarm, request('entry-1', { budgets, rates }));
    // The worker died; the task's next delivery reserves under the same holder.
    expect(await b.ledger.reserve(swarm, request('entry-1', { budgets, rates }))).toEqual({
      outcome: 'reserved',
    });
    expect((await budget('swarm'))?.heldUsd).toBeCloseTo(0.01, 10);
  });

  it('counts a hold that lapsed as spent at its worst case, and a late settle on top of it', async () => {
    const budgets = [{ name: 'swarm', usd: 0.05 }];
    await a.ledger.reserve(swarm, request('dead', { budgets, holdMs: 200, token: 'dead-1' }));
    await env.elapse(300);
    expect((await b.ledger.reserve(swarm, request('alive', { budgets }))).outcome).toBe('reserved');
    expect(await budget('swarm')).toMatchObject({ spentUsd: 0.01, heldUsd: 0.01 });
    // Its call did run after all: the real spend counts too (too much, never too little).
    await a.ledger.settle(swarm, {
      holder: 'dead',
      usd: 0.002,
      tokens: 10,
      budgets: ['swarm'],
      rates: [],
      token: 'dead-1',
    });
    expect((await budget('swarm'))?.spentUsd).toBeCloseTo(0.012, 10);
    expect((await budget('swarm'))?.heldUsd).toBeCloseTo(0.01, 10);
  });

  it('leaves the new owner’s hold alone when a stalled holder settles with its old token', async () => {
    const budgets = [{ name: 'swarm', usd: 1 }];
    const rates = [{ name: 'anthropic', concurrency: 1 }];
    await a.ledger.reserve(swarm, request('entry-1', { budgets, rates, token: 'old' }));
    // The task went to another worker, which reserved under the same holder: the old hold counts as spent.
    await b.ledger.reserve(swarm, request('entry-1', { budgets, rates, token: 'new' }));
    await a.ledger.settle(swarm, {
      holder: 'entry-1',
      usd: 0.003,
      tokens: 100,
      budgets: ['swarm'],
      rates,
      token: 'old',
    });
    expect(await budget('swarm')).toMatchObject({ heldUsd: 0.01 });
    expect((await budget('swarm'))?.spentUsd).toBeCloseTo(0.013, 10);
    // The new hold still holds the one concurrency slot.
    expect(await a.ledger.reserve(swarm, request('entry-2', { budgets, rates }))).toMatchObject({
      outcome: 'wait',
    });
    await a.ledger.release(swarm, 'entry-1', 'old');
    expect(await a.ledger.reserve(swarm, request('entry-2', { budgets, rates }))).toMatchObject({
      outcome: 'wait',
    });
    await b.ledger.settle(swarm, {
      holder: 'entry-1',
      usd: 0.004,
      tokens: 100,
      budgets: ['swarm'],
      rates,
      token: 'new',
    });
    expect((await a.ledger.reserve(swarm, request('entry-2', { budgets, rates }))).outcome).toBe('reserved');
  });

  it('releases a hold unspent', async () => {
    const budgets = [{ name: 'swarm', usd: 0.01 }];
    await a.ledger.reserve(swarm, request('t1', { budgets }));
    await b.ledger.release(swarm, 't1');
    expect(await budget('swarm')).toMatchObject({ spentUsd: 0, heldUsd: 0 });
    expect((await b.ledger.reserve(swarm, request('t2', { budgets }))).outcome).toBe('reserved');
  });

  it('holds at most `concurrency` at once', async () => {
    const rates = [{ name: 'openai', concurrency: 2 }];
    expect((await a.ledger.reserve(swarm, request('t1', { rates }))).outcome).toBe('reserved');
    expect((await b.ledger.reserve(swarm, request('t2', { rates }))).outcome).toBe('reserved');
    expect(await a.ledger.reserve(swarm, request('t3', { rates }))).toMatchObject({
      outcome: 'wait',
      limit: 'openai',
    });
    await b.ledger.settle(swarm, { holder: 't2', usd: 0, tokens: 0, budgets: [], rates });
    expect((await a.ledger.reserve(swarm, request('t3', { rates }))).outcome).toBe('reserved');
  });

  it('admits requests per minute at the limit’s pace, a second’s worth at once', async () => {
    const rates = [{ name: 'google', requestsPerMinute: 120 }];
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await (i % 2 ? a : b).ledger.reserve(swarm, request(`r${i}`, { rates })));
    // 120 a minute is one every 500 ms; the burst is one second's worth: two.
    expect(results.map((r) => r.outcome)).toEqual(['reserved', 'reserved', 'wait']);
    const wait = results[2] as { waitMs: number };
    expect(wait.waitMs).toBeGreaterThan(0);
    expect(wait.waitMs).toBeLessThanOrEqual(500);
    await env.elapse(wait.waitMs + 20);
    expect((await a.ledger.reserve(swarm, request('r2', { rates }))).outcome).toBe('reserved');
  });

  it('admits tokens per minute, and hands back what the worst case reserved beyond the real use', async () => {
    const rates = [{ name: 'deepseek', tokensPerMinute: 60_000 }];
    expect((await a.ledger.reserve(swarm, request('t1', { tokens: 5_000, rates }))).outcome).toBe('reserved');
    // 5,000 tokens at 1,000 a second: the next must wait about four seconds past the burst.
    expect(await b.ledger.reserve(swarm, request('t2', { tokens: 1_000, rates }))).toMatchObject({
      outcome: 'wait',
    });
    await a.ledger.settle(swarm, { holder: 't1', usd: 0, tokens: 100, budgets: [], rates });
    expect((await b.ledger.reserve(swarm, request('t2', { tokens: 1_000, rates }))).outcome).toBe('reserved');
  });

  it('holds every reservation against a cooling-down vendor until the cool-down ends', async () => {
    const rates = [{ name: 'anthropic' }];
    await a.ledger.coolDown(swarm, 'anthropic', 400);
    await a.ledger.coolDown(swarm, 'anthropic', 100);
    const held = await b.ledger.reserve(swarm, request('t1', { rates }));
    expect(held).toMatchObject({ outcome: 'wait', limit: 'anthropic' });
    expect((held as { waitMs: number }).waitMs).toBeGreaterThan(100);
    expect((await b.ledger.reserve(swarm, request('t1', { rates: [{ name: 'openai' }] }))).outcome).toBe(
      'reserved',
    );
    await env.elapse((held as { waitMs: number }).waitMs + 20);
    expect((await b.ledger.reserve(swarm, request('t2', { rates }))).outcome).toBe('reserved');
  });

  it('refuses amounts and names it cannot count', async () => {
    await expect(a.ledger.reserve(swarm, request('t1', { usd: -1 }))).rejects.toBeInstanceOf(LedgerError);
    await expect(a.ledger.reserve(swarm, request('t 1'))).rejects.toBeInstanceOf(LedgerError);
    await expect(
      a.ledger.reserve(swarm, request('t1', { rates: [{ name: 'x', requestsPerMinute: 0 }] })),
    ).rejects.toBeInstanceOf(LedgerError);
  });
});
