import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import {
  costOf,
  GENAI_PRICE_VERSION,
  GENAI_PRICES_VERSION,
  type PriceOverrides,
  priceOf,
  TOPOLOGY_PRICE_VERSION,
  worstCaseCostOf,
} from './prices';

/** genai-prices' own figure for a usage, the reference every expectation below is checked against. */
function genai(modelId: string, usage: Record<string, number>, timestamp?: Date): number {
  const [provider, model] = modelId.split(':') as [string, string];
  const found = calcPrice({ output_tokens: 0, ...usage }, model, {
    providerId: provider,
    ...(timestamp ? { timestamp } : {}),
  });
  if (!found) throw new Error(`genai-prices has no ${modelId}`);
  return found.total_price;
}

const M = 1_000_000;
const KNOWN = [
  'anthropic:claude-haiku-4-5',
  'openai:gpt-4.1-mini',
  'google:gemini-2.5-flash',
  'deepseek:deepseek-chat',
];
// DeepSeek prices by hour of day: every comparison picks its moment.
const at = new Date('2026-12-01T03:00:00Z');

describe('priceOf', () => {
  it.each(KNOWN)('gives %s the rates of genai-prices’ bundled table', (model) => {
    const price = priceOf(model, { at });
    expect(price.inputPerMTok).toBeCloseTo(genai(model, { input_tokens: M }, at), 12);
    expect(price.outputPerMTok).toBeCloseTo(genai(model, { output_tokens: M }, at), 12);
    expect(price.cachedInputPerMTok).toBeCloseTo(
      genai(model, { input_tokens: M, cache_read_tokens: M }, at),
      12,
    );
    expect(price.cacheWritePerMTok).toBeCloseTo(
      genai(model, { input_tokens: M, cache_write_tokens: M }, at),
      12,
    );
    expect(price.priceVersion).toBe(GENAI_PRICE_VERSION);
    expect(price.inputPerMTok).toBeGreaterThan(0);
  });

  it('finds a dated model name under its family', () => {
    expect(priceOf('anthropic:claude-haiku-4-5-20251001').inputPerMTok).toBe(
      priceOf('anthropic:claude-haiku-4-5').inputPerMTok,
    );
  });

  it('applies the tier of a long prompt (Anthropic and Google charge more past 200k)', () => {
    const short = priceOf('anthropic:claude-sonnet-4-5', { promptTokens: 100_000 });
    const long = priceOf('anthropic:claude-sonnet-4-5', { promptTokens: 300_000 });
    expect(long.inputPerMTok).toBeGreaterThan(short.inputPerMTok);
    expect(long.inputPerMTok * 300_000).toBeCloseTo(
      genai('anthropic:claude-sonnet-4-5', { input_tokens: 300_000 }) * M,
      6,
    );
  });

  it('names its version after the installed genai-prices', () => {
    const main = createRequire(import.meta.url).resolve('@pydantic/genai-prices');
    const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8'));
    expect(GENAI_PRICES_VERSION).toBe(manifest.version);
  });
});

describe('costOf', () => {
  it.each(KNOWN)('costs a call to %s as genai-prices does, cache and reasoning tokens included', (model) => {
    const tokens = {
      inputTokens: 12_000,
      cachedInputTokens: 8_000,
      cacheWriteTokens: 1_000,
      outputTokens: 900,
      reasoningTokens: 300,
    };
    const { costUsd, priceVersion } = costOf(model, tokens, { at });
    expect(costUsd).toBeCloseTo(
      genai(
        model,
        {
          input_tokens: 12_000,
          cache_read_tokens: 8_000,
          cache_write_tokens: 1_000,
          output_tokens: 900,
          output_reasoning_tokens: 300,
        },
        at,
      ),
      12,
    );
    expect(priceVersion).toBe(GENAI_PRICE_VERSION);
  });

  it('charges tokens read from the prompt cache at the cached rate, the rest at the input rate', () => {
    const model = 'anthropic:claude-haiku-4-5';
    const price = priceOf(model);
    expect(price.cachedInputPerMTok).toBeLessThan(price.inputPerMTok);
    const cached = costOf(model, { inputTokens: 10_000, cachedInputTokens: 9_000, outputTokens: 0 });
    expect(cached.costUsd).toBeCloseTo(
      (1_000 * price.inputPerMTok + 9_000 * price.cachedInputPerMTok) / M,
      12,
    );
    const uncached = costOf(model, { inputTokens: 10_000, outputTokens: 0 });
    expect(cached.costUsd).toBeLessThan(uncached.costUsd);
  });

  it('charges tokens written to the cache at the write rate where the vendor has one', () => {
    const model = 'anthropic:claude-haiku-4-5';
    const price = priceOf(model);
    expect(price.cacheWritePerMTok).toBeGreaterThan(price.inputPerMTok);
    const written = costOf(model, { inputTokens: 10_000, cacheWriteTokens: 10_000, outputTokens: 0 });
    expect(written.costUsd).toBeCloseTo((10_000 * price.cacheWritePerMTok) / M, 12);
  });

  it('follows prices that change by hour of day', () => {
    const model = 'deepseek:deepseek-chat';
    const tokens = { inputTokens: 100_000, outputTokens: 10_000 };
    const night = new Date('2026-12-01T20:00:00Z');
    expect(costOf(model, tokens, { at: night }).costUsd).toBeCloseTo(
      genai(model, { input_tokens: 100_000, output_tokens: 10_000 }, night),
      12,
    );
  });

  it('refuses counts whose parts exceed their whole, saying how to fix them', () => {
    expect(() =>
      costOf('anthropic:claude-haiku-4-5', { inputTokens: 100, cachedInputTokens: 900, outputTokens: 1 }),
    ).toThrow(/exceed inputTokens \(100\): they are parts of it/);
    expect(() =>
      costOf('openai:gpt-4.1-mini', { inputTokens: 1, outputTokens: 10, reasoningTokens: 20 }),
    ).toThrow(expect.objectContaining({ code: 'SWARM_USAGE_INVALID' }));
    expect(() => costOf('openai:gpt-4.1-mini', { inputTokens: -1, outputTokens: 0 })).toThrow(
      /inputTokens is -1/,
    );
  });
});

describe('price overrides from the topology', () => {
  const overrides: PriceOverrides = {
    'myvllm:llama-3.1-8b': { inputPerMTok: 0.2, outputPerMTok: 0.6, cachedInputPerMTok: 0.05 },
    'openai:gpt-4.1-mini': { inputPerMTok: 1, outputPerMTok: 2 },
    'anthropic:claude-haiku-4-5': { contextWindow: 100_000 },
  };

  it('prices a model genai-prices does not know', () => {
    const price = priceOf('myvllm:llama-3.1-8b', { overrides });
    expect(price).toEqual({
      model: 'myvllm:llama-3.1-8b',
      inputPerMTok: 0.2,
      cachedInputPerMTok: 0.05,
      cacheWritePerMTok: 0.2,
      outputPerMTok: 0.6,
      priceVersion: TOPOLOGY_PRICE_VERSION,
    });
    const cost = costOf(
      'myvllm:llama-3.1-8b',
      { inputTokens: 3_000, cachedInputTokens: 1_000, outputTokens: 500 },
      { overrides },
    );
    expect(cost.costUsd).toBeCloseTo((2_000 * 0.2 + 1_000 * 0.05 + 500 * 0.6) / M, 12);
    expect(cost.priceVersion).toBe('topology');
  });

  it('wins over the bundled table', () => {
    expect(costOf('openai:gpt-4.1-mini', { inputTokens: M, outputTokens: M }, { overrides })).toEqual({
      costUsd: 3,
      priceVersion: 'topology',
    });
  });

  it('leaves the table’s price alone when it sets only limits', () => {
    expect(priceOf('anthropic:claude-haiku-4-5', { overrides })).toEqual(
      priceOf('anthropic:claude-haiku-4-5'),
    );
  });
});

describe('a model with no price', () => {
  it('is refused with an error naming it and the override to add', () => {
    let error: unknown;
    try {
      priceOf('myvllm:llama-3.1-8b');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'SWARM_PRICE_UNKNOWN', model: 'myvllm:llama-3.1-8b' });
    expect((error as Error).message).toContain('no price for model myvllm:llama-3.1-8b');
    expect((error as Error).message).toContain(
      'prices: { "myvllm:llama-3.1-8b": { inputPerMTok: <dollars>, outputPerMTok: <dollars> } }',
    );
    expect(() => costOf('openai:gpt-nonesuch', { inputTokens: 1, outputTokens: 1 })).toThrow(
      expect.objectContaining({ code: 'SWARM_PRICE_UNKNOWN' }),
    );
  });

  it('or, without a provider, with the form a model id takes', () => {
    expect(() => priceOf('gpt-4.1-mini')).toThrow(/write provider:model, like anthropic:claude-haiku-4-5/);
  });
});

describe('worstCaseCostOf', () => {
  it('reserves every prompt token at the dearer of input and cache write, and the whole answer', () => {
    const price = priceOf('anthropic:claude-haiku-4-5');
    const { costUsd, priceVersion } = worstCaseCostOf('anthropic:claude-haiku-4-5', 10_000, 1_000);
    expect(costUsd).toBeCloseTo((10_000 * price.cacheWritePerMTok + 1_000 * price.outputPerMTok) / M, 12);
    expect(priceVersion).toBe(GENAI_PRICE_VERSION);
    expect(costUsd).toBeGreaterThanOrEqual(
      costOf('anthropic:claude-haiku-4-5', { inputTokens: 10_000, outputTokens: 1_000 }).costUsd,
    );
  });

  it('uses the tier the prompt falls in', () => {
    const model = 'google:gemini-2.5-pro';
    const long = worstCaseCostOf(model, 300_000, 0, { at });
    expect(long.costUsd).toBeCloseTo(genai(model, { input_tokens: 300_000 }, at), 12);
  });
});
