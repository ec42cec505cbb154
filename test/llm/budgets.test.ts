import { RedisBus } from '@swarm/core';
import type { FakeVendor } from '@swarm/worker/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

const MODEL = 'anthropic:claude-haiku-4-5';
/** Round prices, so the test can count: $1 and $5 a million tokens. */
const prices = { [MODEL]: { inputPerMTok: 1, outputPerMTok: 5 } };
/** Every call reports 1,000 tokens in and 500 out: $0.0035. */
const usage = { inputTokens: 1_000, outputTokens: 500 };
const CALL_USD = 0.0035;

describe('llm pools within budgets and rate limits shared across processes', () => {
  const redis = useRedisServer();
  let swarm: string;
  let fake: FakeVendor;
  const rig = new LlmRig();
  const buses: RedisBus[] = [];
  const newBus = () => {
    const bus = new RedisBus({ url: redis.url });
    buses.push(bus);
    return bus;
  };

  beforeEach(async () => {
    swarm = uniqueSwarm();
    fake = await rig.vendor({ kind: 'anthropic', usage });
  });
  afterEach(async () => {
    await rig.stop();
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  const models = (extra: object = {}) => ({ providers: providersOf({ anthropic: fake }), prices, ...extra });

  it('dead-letters the tasks past a spent budget with "budget exhausted", and never spends past it', async () => {
    const bus = newBus();
    // The worst case of a call is about $0.005 (1,000 answer tokens at $5): two calls fit $0.01.
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: MODEL, maxOutputTokens: 1_000 }, { concurrency: 3 }),
      models({ swarmBudget: { usd: 0.01 } }),
    );
    for (let i = 0; i < 5; i++) await bus.post(swarm, 'ask', { description: `q${i}` });
    await until(async () => (await bus.deadLetters(swarm)).length === 3, 'three dead letters', 20_000);
    const letters = await bus.deadLetters(swarm);
    for (const letter of letters) {
      expect(letter.reason).toMatch(/budget exhausted: swarm/);
      expect(letter.errors).toHaveLength(1);
    }
    const answered = await bus.readFindings(swarm);
    expect(answered).toHaveLength(2);
    const swarmBudget = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
    expect(swarmBudget).toMatchObject({ limitUsd: 0.01, heldUsd: 0, spentTokens: 3_000 });
    expect(swarmBudget?.spentUsd).toBeCloseTo(2 * CALL_USD, 12);
    expect(fake.counts.requests).toBe(2);
  });

  it('lets a cheaper model answer when the budget cannot pay for the first one', async () => {
    const bus = newBus();
    const cheap = await rig.vendor({ kind: 'openai', usage });
    const CHEAP = 'openai:gpt-4.1-mini';
    // The first model's worst case (1,000 answer tokens at $500 a million) is past the budget; the
    // cheap one's is not.
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: MODEL, fallback: [CHEAP], maxOutputTokens: 1_000 }),
      models({
        providers: providersOf({ anthropic: fake, openai: cheap }),
        prices: {
          [MODEL]: { inputPerMTok: 100, outputPerMTok: 500 },
          [CHEAP]: { inputPerMTok: 1, outputPerMTok: 5 },
        },
        swarmBudget: { usd: 0.1 },
      }),
    );
    await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.usage?.model).toBe('gpt-4.1-mini');
    expect(fake.counts.requests).toBe(0);
    expect(await bus.deadLetters(swarm)).toEqual([]);
  });

  it('holds two pools in two processes to one swarm budget', async () => {
    const [one, two] = [newBus(), newBus()];
    const spec = (type: string) =>
      llmPoolSpec({ model: MODEL, maxOutputTokens: 1_000 }, { type, concurrency: 2 });
    await rig.pool(one, swarm, spec('a'), models({ swarmBudget: { usd: 0.02 } }));
    await rig.pool(two, swarm, spec('b'), models({ swarmBudget: { usd: 0.02 } }));
    for (let i = 0; i < 5; i++) {
      await one.post(swarm, 'a', { description: `a${i}` });
      await one.post(swarm, 'b', { description: `b${i}` });
    }
    const settled = async () =>
      (await one.readFindings(swarm)).length + (await one.deadLetters(swarm)).length === 10;
    await until(settled, 'every task answered or dead-lettered', 25_000);
    const answered = await one.readFindings(swarm);
    // $0.0035 spent a call and $0.005 reserved for the next: five calls fit $0.02, a sixth does not.
    expect(answered).toHaveLength(5);
    const budgets = await two.ledger.budgets(swarm);
    const total = budgets.find((b) => b.name === 'swarm');
    expect(total?.spentUsd).toBeLessThanOrEqual(0.02);
    expect(total?.spentUsd).toBeCloseTo(
      answered.reduce((sum, f) => sum + (f.usage?.costUsd ?? 0), 0),
      12,
    );
    // Each pool's spend is counted under its own name too.
    const pools = budgets.filter((b) => b.name.startsWith('pool:'));
    expect(pools.map((b) => b.name).sort()).toEqual(['pool:a', 'pool:b']);
    expect(pools.reduce((sum, b) => sum + b.spentUsd, 0)).toBeCloseTo(total?.spentUsd ?? 0, 12);
  });

  it('dead-letters past a pool’s own token budget', async () => {
    const bus = newBus();
    // A call reserves its prompt and 100 answer tokens, and spends 1,500: the budget holds one.
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: MODEL, maxOutputTokens: 100 }, { budget: { tokens: 1_550 } }),
      models(),
    );
    for (let i = 0; i < 2; i++) await bus.post(swarm, 'ask', { description: `q${i}` });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    expect((await bus.deadLetters(swarm))[0]?.reason).toMatch(/budget exhausted: pool:ask/);
    expect(await bus.readFindings(swarm)).toHaveLength(1);
  });

  it('makes tasks wait, not fail, while a provider’s rate limit refills', async () => {
    const bus = newBus();
    // 60 requests a minute: one a second, and a burst of one.
    const pool = await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: MODEL }, { concurrency: 3 }),
      models({
        providers: providersOf({ anthropic: fake }, { anthropic: { limits: { requestsPerMinute: 60 } } }),
      }),
    );
    for (let i = 0; i < 3; i++) await bus.post(swarm, 'ask', { description: `q${i}` });
    const answered = await findings(bus, swarm, 3, 20_000);
    expect(answered.every((f) => f.attempt === 1)).toBe(true);
    expect(await bus.deadLetters(swarm)).toEqual([]);
    // Waits this short (the third task's is about two seconds) are waited out with the task in
    // hand: nothing failed, and nothing was put back to be read and told to wait again.
    expect(pool.stats).toMatchObject({ completed: 3, failed: 0, deferred: 0 });
  });

  it('holds a provider to its concurrency across pools in two processes', async () => {
    // Requests begun and not yet answered when each arrives (the fake's own inFlight counts open
    // connections, which close a moment after the answer's last event has been read).
    let mostAtOnce = 0;
    const slow: FakeVendor = await rig.vendor({
      kind: 'anthropic',
      latencyMs: 200,
      script: () => {
        mostAtOnce = Math.max(mostAtOnce, slow.counts.requests - slow.counts.answered);
        return undefined;
      },
    });
    const limited = {
      providers: providersOf({ anthropic: slow }, { anthropic: { limits: { concurrency: 1 } } }),
      prices,
    };
    const [one, two] = [newBus(), newBus()];
    await rig.pool(one, swarm, llmPoolSpec({ model: MODEL }, { type: 'a', concurrency: 3 }), limited);
    await rig.pool(two, swarm, llmPoolSpec({ model: MODEL }, { type: 'b', concurrency: 3 }), limited);
    for (let i = 0; i < 3; i++) {
      await one.post(swarm, 'a', { description: `a${i}` });
      await one.post(swarm, 'b', { description: `b${i}` });
    }
    await findings(one, swarm, 6, 25_000);
    expect(mostAtOnce).toBe(1);
  });
});
