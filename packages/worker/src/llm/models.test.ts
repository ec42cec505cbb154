import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { estimateTokens, fitsContext, modelFacts } from './models';
import type { PriceOverrides } from './prices';
import { routeCandidates } from './routing';

describe('modelFacts', () => {
  it('knows the window and the longest answer of the models swarm documents', () => {
    expect(modelFacts('anthropic:claude-haiku-4-5')).toEqual({
      model: 'anthropic:claude-haiku-4-5',
      contextWindow: 200_000,
      maxInputTokens: 200_000,
      maxOutputTokens: 64_000,
      source: 'swarm',
    });
    expect(modelFacts('openai:gpt-4.1-mini')).toMatchObject({
      contextWindow: 1_047_576,
      maxOutputTokens: 32_768,
    });
    expect(modelFacts('deepseek:deepseek-chat')).toMatchObject({ contextWindow: 128_000 });
  });

  it('finds a dated model name under its family', () => {
    expect(modelFacts('anthropic:claude-haiku-4-5-20251001')).toMatchObject({
      model: 'anthropic:claude-haiku-4-5-20251001',
      contextWindow: 200_000,
    });
  });

  it('keeps GPT-5’s prompt to 272k of its 400k window', () => {
    const gpt5 = modelFacts('openai:gpt-5-mini');
    expect(gpt5).toMatchObject({ contextWindow: 400_000, maxInputTokens: 272_000 });
    expect(fitsContext(gpt5, 272_000, 128_000)).toBe(true);
    expect(fitsContext(gpt5, 300_000, 1_000)).toBe(false);
  });

  it('gives Gemini its prompt limit and its answer limit each on its own', () => {
    const flash = modelFacts('google:gemini-2.5-flash');
    expect(flash).toMatchObject({ maxInputTokens: 1_048_576, maxOutputTokens: 65_536 });
    expect(fitsContext(flash, 1_048_576, 65_536)).toBe(true);
    expect(fitsContext(flash, 1_048_577, 1)).toBe(false);
  });

  it('falls back on genai-prices’ context_window for a model outside swarm’s table', () => {
    const window = calcPrice({ input_tokens: 0 }, 'gpt-4o', { providerId: 'openai' })?.model.context_window;
    expect(window).toBeGreaterThan(0);
    expect(modelFacts('openai:gpt-4o')).toEqual({
      model: 'openai:gpt-4o',
      contextWindow: window,
      maxInputTokens: window,
      maxOutputTokens: undefined,
      source: 'genai-prices',
    });
  });

  it('takes the topology’s contextWindow and maxOutputTokens over any table', () => {
    const overrides: PriceOverrides = {
      'myvllm:llama-3.1-8b': {
        inputPerMTok: 0,
        outputPerMTok: 0,
        contextWindow: 131_072,
        maxOutputTokens: 4_096,
      },
      'openai:gpt-5-mini': { contextWindow: 500_000 },
    };
    expect(modelFacts('myvllm:llama-3.1-8b', overrides)).toEqual({
      model: 'myvllm:llama-3.1-8b',
      contextWindow: 131_072,
      maxInputTokens: 131_072,
      maxOutputTokens: 4_096,
      source: 'topology',
    });
    expect(modelFacts('openai:gpt-5-mini', overrides)).toMatchObject({
      contextWindow: 500_000,
      maxInputTokens: 500_000,
      maxOutputTokens: 128_000,
    });
  });

  it('refuses a model with no known window, saying what to add', () => {
    expect(() => modelFacts('myvllm:llama-3.1-8b')).toThrow(
      expect.objectContaining({
        code: 'SWARM_MODEL_UNKNOWN',
        message: expect.stringContaining('prices: { "myvllm:llama-3.1-8b": { contextWindow: <tokens>'),
      }),
    );
  });
});

describe('fitsContext', () => {
  it('keeps room for the answer in a shared window, no more than the model can give', () => {
    const haiku = modelFacts('anthropic:claude-haiku-4-5');
    expect(fitsContext(haiku, 190_000, 10_000)).toBe(true);
    expect(fitsContext(haiku, 190_001, 10_000)).toBe(false);
    // Asking for more than its 64k answers gets 64k: that is what the window must hold.
    expect(fitsContext(haiku, 136_000, 1_000_000)).toBe(true);
  });
});

/** The model `route: cheapest` asks first, through the pool's own routing. */
const cheapestFitting = (
  models: readonly string[],
  request: { promptTokens: number; maxOutputTokens: number },
  options: { overrides?: PriceOverrides } = {},
) => routeCandidates({ models, route: 'cheapest', ...request, ...options })[0]?.modelId;

describe('route: cheapest', () => {
  const pool = ['anthropic:claude-sonnet-4-5', 'openai:gpt-4.1-nano', 'google:gemini-2.5-pro'];

  it('sends a small prompt to the cheapest model of the list', () => {
    expect(cheapestFitting(pool, { promptTokens: 2_000, maxOutputTokens: 500 })).toBe('openai:gpt-4.1-nano');
  });

  it('sends a prompt only to a model whose window holds it', () => {
    const small = ['anthropic:claude-haiku-4-5', 'openai:gpt-5-mini', 'google:gemini-2.5-flash'];
    expect(cheapestFitting(small, { promptTokens: 150_000, maxOutputTokens: 1_000 })).toBe(
      'openai:gpt-5-mini',
    );
    expect(cheapestFitting(small, { promptTokens: 300_000, maxOutputTokens: 1_000 })).toBe(
      'google:gemini-2.5-flash',
    );
  });

  it('sends a 1.5M-token context to the one model that can hold it', () => {
    const overrides: PriceOverrides = {
      'myvllm:long-llama': { inputPerMTok: 5, outputPerMTok: 20, contextWindow: 2_000_000 },
    };
    const models = [...pool, 'myvllm:long-llama'];
    expect(cheapestFitting(models, { promptTokens: 1_500_000, maxOutputTokens: 1_000 }, { overrides })).toBe(
      'myvllm:long-llama',
    );
    expect(cheapestFitting(models, { promptTokens: 1_000, maxOutputTokens: 1_000 }, { overrides })).toBe(
      'openai:gpt-4.1-nano',
    );
  });

  it('says which windows were too small when none holds the prompt', () => {
    expect(() => cheapestFitting(pool, { promptTokens: 1_500_000, maxOutputTokens: 1_000 })).toThrow(
      expect.objectContaining({
        code: 'SWARM_NO_MODEL_FITS',
        message: expect.stringContaining('anthropic:claude-sonnet-4-5 (200,000)'),
      }),
    );
  });

  it('prefers the earlier model on a tie', () => {
    const overrides: PriceOverrides = {
      'a:one': { inputPerMTok: 1, outputPerMTok: 1, contextWindow: 10_000 },
      'b:two': { inputPerMTok: 1, outputPerMTok: 1, contextWindow: 10_000 },
    };
    expect(
      cheapestFitting(['b:two', 'a:one'], { promptTokens: 10, maxOutputTokens: 10 }, { overrides }),
    ).toBe('b:two');
  });
});

describe('estimateTokens', () => {
  it('counts about 3.5 characters a token in English, so it errs high for GPT and Gemini', () => {
    const prose =
      'The shard holds the context; a worker claims one task, reads it, reports, forgets. '.repeat(100);
    expect(estimateTokens(prose)).toBe(Math.ceil(prose.length / 3.5));
    expect(estimateTokens(prose)).toBeGreaterThan(prose.length / 4);
  });

  it('counts a token for each Han, kana or Hangul character', () => {
    expect(estimateTokens('分散型のエージェント群')).toBe(11);
    expect(estimateTokens('한국어')).toBe(3);
    expect(estimateTokens('')).toBe(0);
  });
});
