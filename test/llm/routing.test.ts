import { MemoryBus } from '@swarm/core';
import type { FakeVendor } from '@swarm/worker/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

/** gpt-4.1-mini costs a fraction of claude-sonnet-4-5 a token; the test gives it a small window. */
const CHEAP = 'openai:gpt-4.1-mini';
const DEAR = 'anthropic:claude-sonnet-4-5';

describe('routing an llm pool’s tasks', () => {
  let bus: MemoryBus;
  let swarm: string;
  let cheap: FakeVendor;
  let dear: FakeVendor;
  const rig = new LlmRig();

  beforeEach(async () => {
    bus = new MemoryBus();
    swarm = uniqueSwarm();
    cheap = await rig.vendor({ kind: 'openai' });
    dear = await rig.vendor({ kind: 'anthropic' });
  });
  afterEach(async () => {
    await rig.stop();
    await bus.close();
  });

  const models = () => ({ providers: providersOf({ openai: cheap, anthropic: dear }) });

  it('route: cheapest sends a prompt to the cheapest model whatever the list’s order', async () => {
    await rig.pool(bus, swarm, llmPoolSpec({ model: DEAR, fallback: [CHEAP], route: 'cheapest' }), models());
    await bus.post(swarm, 'ask', { description: 'a short question' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.usage).toMatchObject({ provider: 'openai', model: 'gpt-4.1-mini' });
    expect(dear.counts.requests).toBe(0);
  });

  it('route: cheapest sends a prompt too big for the cheap model to one that holds it', async () => {
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({ model: CHEAP, fallback: [DEAR], route: 'cheapest', maxOutputTokens: 500 }),
      { ...models(), prices: { [CHEAP]: { contextWindow: 4_000 } } },
    );
    // About 6,000 tokens of context: past the cheap model's 4,000, well within the other's 200,000.
    const big = await bus.context.put(swarm, 'The runbook says to page the on-call. '.repeat(560));
    const small = await bus.context.put(swarm, 'A short context.');
    const toBig = await bus.post(swarm, 'ask', { description: 'big', context: big });
    const toSmall = await bus.post(swarm, 'ask', { description: 'small', context: small });
    const found = await findings(bus, swarm, 2);
    const providerOf = (taskId: string) => found.find((f) => f.taskId === taskId)?.usage?.provider;
    expect(providerOf(toBig.id)).toBe('anthropic');
    expect(providerOf(toSmall.id)).toBe('openai');
  });

  it('dead-letters a prompt no model can hold, at once', async () => {
    await rig.pool(bus, swarm, llmPoolSpec({ model: CHEAP, route: 'cheapest' }, { maxAttempts: 3 }), {
      ...models(),
      prices: { [CHEAP]: { contextWindow: 2_000 } },
    });
    const big = await bus.context.put(swarm, 'x '.repeat(10_000));
    await bus.post(swarm, 'ask', { description: 'too big', context: big });
    await until(async () => (await bus.deadLetters(swarm)).length === 1, 'the dead letter');
    const letters = await bus.deadLetters(swarm);
    expect(letters[0]?.errors).toHaveLength(1);
    expect(letters[0]?.errors[0]?.message).toMatch(/no model holds a prompt of about/);
    expect(cheap.counts.requests).toBe(0);
  });

  it('keeps a context with the model that answered it while that model is healthy', async () => {
    // The first model fails once; the context it was asked about moves to the fallback, and stays.
    const first = await rig.vendor({ kind: 'openai', script: [{ error: 500 }] });
    await rig.pool(bus, swarm, llmPoolSpec({ model: CHEAP, fallback: [DEAR] }), {
      providers: providersOf({ openai: first, anthropic: dear }),
    });
    const sticky = await bus.context.put(swarm, 'Context one.');
    const other = await bus.context.put(swarm, 'Context two.');
    const t1 = await bus.post(swarm, 'ask', { description: 't1', context: sticky });
    await findings(bus, swarm, 1);
    const t2 = await bus.post(swarm, 'ask', { description: 't2', context: sticky });
    await findings(bus, swarm, 2);
    const t3 = await bus.post(swarm, 'ask', { description: 't3', context: other });
    const found = await findings(bus, swarm, 3);
    const providerOf = (taskId: string) => found.find((f) => f.taskId === taskId)?.usage?.provider;
    expect([t1, t2, t3].map((t) => providerOf(t.id))).toEqual(['anthropic', 'anthropic', 'openai']);
    expect(first.counts.requests).toBe(2);
  });
});
