import { MemoryBus } from '@swarm/core';
import type { FakeVendorKind } from '@swarm/worker/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { costOf, GENAI_PRICE_VERSION } from '../../packages/worker/src/llm/prices';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm } from './helpers';

const usage = { inputTokens: 1_200, cachedInputTokens: 1_000, outputTokens: 40, reasoningTokens: 0 };

/** Each vendor's API, as a pool reaches it: the provider's name, the fake it speaks to, a priced model. */
const VENDORS: { provider: string; kind: FakeVendorKind; model: string; cached?: number }[] = [
  { provider: 'anthropic', kind: 'anthropic', model: 'anthropic:claude-haiku-4-5' },
  { provider: 'openai', kind: 'openai', model: 'openai:gpt-4.1-mini' },
  { provider: 'google', kind: 'google', model: 'google:gemini-2.5-flash' },
  // DeepSeek reports cache hits in fields of its own, which the fake (speaking OpenAI's) does not send.
  { provider: 'deepseek', kind: 'openai', model: 'deepseek:deepseek-chat', cached: 0 },
];

describe('an llm pool answers through each vendor API', () => {
  let bus: MemoryBus;
  let swarm: string;
  const rig = new LlmRig();

  beforeEach(() => {
    bus = new MemoryBus();
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rig.stop();
    await bus.close();
  });

  it.each(VENDORS)('$model: summary, usage with tokens and cost, priceVersion, calls', async (vendor) => {
    const tokens = { ...usage, cachedInputTokens: vendor.cached ?? usage.cachedInputTokens };
    const fake = await rig.vendor({ kind: vendor.kind, usage: tokens });
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({
        model: vendor.model,
        system: 'You answer from the context.',
        prompt: 'Question: {{description}} (about {{data.topic}})',
      }),
      { providers: providersOf({ [vendor.provider]: fake }) },
    );
    const context = await bus.context.put(swarm, 'The shard holds the runbook.');
    await bus.post(swarm, 'ask', { description: 'What does it hold?', data: { topic: 'shards' }, context });

    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.summary).toContain('Question: What does it hold? (about shards)');
    const expectedCost = costOf(vendor.model, tokens).costUsd;
    expect(finding?.usage).toMatchObject({
      provider: vendor.provider,
      model: vendor.model.split(':')[1],
      inputTokens: 1_200,
      cachedInputTokens: tokens.cachedInputTokens,
      outputTokens: 40,
      priceVersion: GENAI_PRICE_VERSION,
      calls: [{ provider: vendor.provider, outcome: 'answered', inputTokens: 1_200, outputTokens: 40 }],
    });
    expect(finding?.usage?.costUsd).toBeCloseTo(expectedCost, 12);
    expect(finding?.usage?.costUsd).toBeGreaterThan(0);

    const [request] = fake.requests;
    expect(request?.stream).toBe(true);
    expect(request?.system).toBe('You answer from the context.');
    expect(request?.prompt).toContain('The shard holds the runbook.');
  });

  it('marks the context as a cacheable prefix for Anthropic', async () => {
    const fake = await rig.vendor({ kind: 'anthropic' });
    await rig.pool(bus, swarm, llmPoolSpec({ model: 'anthropic:claude-haiku-4-5' }), {
      providers: providersOf({ anthropic: fake }),
    });
    const context = await bus.context.put(swarm, 'A long and stable context.');
    await bus.post(swarm, 'ask', { description: 'q', context });
    await findings(bus, swarm, 1);
    const body = fake.requests[0]?.body as {
      messages: { content: { text: string; cache_control?: unknown }[] }[];
    };
    const [contextPart, promptPart] = body.messages[0]?.content ?? [];
    expect(contextPart).toMatchObject({
      text: 'A long and stable context.',
      cache_control: { type: 'ephemeral' },
    });
    expect(promptPart?.cache_control).toBeUndefined();
  });

  it('reaches an OpenAI-compatible server of its own, priced by the topology', async () => {
    const fake = await rig.vendor({ kind: 'openai', usage });
    await rig.pool(bus, swarm, llmPoolSpec({ model: 'myvllm:llama-3.1-8b', context: 'none' }), {
      providers: providersOf({ myvllm: fake }, { myvllm: { kind: 'openai-compatible' } }),
      prices: { 'myvllm:llama-3.1-8b': { inputPerMTok: 0.1, outputPerMTok: 0.2 } },
    });
    await bus.post(swarm, 'ask', { description: 'hello' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.usage).toMatchObject({
      provider: 'myvllm',
      model: 'llama-3.1-8b',
      priceVersion: 'topology',
    });
    // 200 uncached at 0.1, 1,000 cached at 0.1 (no discount given), 40 out at 0.2, per million.
    expect(finding?.usage?.costUsd).toBeCloseTo((1_200 * 0.1 + 40 * 0.2) / 1e6, 12);
  });

  it('fails its start, naming the variable to set, when a provider has no key', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    const start = rig.pool(bus, swarm, llmPoolSpec({ model: 'anthropic:claude-haiku-4-5' }), {
      providers: {},
    });
    await expect(start).rejects.toThrow(/ANTHROPIC_API_KEY/);
  });

  it('fails its start when a model has no price anywhere', async () => {
    const fake = await rig.vendor({ kind: 'openai' });
    const start = rig.pool(bus, swarm, llmPoolSpec({ model: 'myvllm:unpriced' }), {
      providers: providersOf({ myvllm: fake }, { myvllm: { kind: 'openai-compatible' } }),
    });
    await expect(start).rejects.toThrow(/no price for model myvllm:unpriced/);
  });
});
