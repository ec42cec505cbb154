/**
 * What routing needs to know of a model: how many tokens its prompt and its answer may hold
 * (issue #10, `route: cheapest`), and a cheap estimate of a prompt's tokens before it is sent.
 */
import { calcPrice } from '@pydantic/genai-prices';
import { SwarmError } from '@swarm/core';
import { type PriceOverrides, splitModelId } from './prices';

export interface ModelFacts {
  model: string;
  /** Most tokens the prompt and the answer may hold together. */
  contextWindow: number;
  /** Most tokens the prompt may hold (GPT-5 keeps 128k of its 400k for the answer). */
  maxInputTokens: number;
  /** Most tokens one answer may hold; undefined when not known. */
  maxOutputTokens: number | undefined;
  /** Where the window came from: the topology, swarm's table below, or genai-prices' `context_window`. */
  source: 'topology' | 'swarm' | 'genai-prices';
}

interface Limits {
  contextWindow: number;
  maxOutputTokens: number;
  maxInputTokens?: number;
}

/** Gemini limits the prompt and the answer each on its own: the window is their sum. */
const gemini = (input: number, output: number): Limits => ({
  contextWindow: input + output,
  maxInputTokens: input,
  maxOutputTokens: output,
});

/**
 * Limits genai-prices lacks (it has no output limits, and no window for some models) or states
 * loosely (1,000,000 for GPT-4.1's 1,047,576), as the vendors document them (checked 2026-12):
 * - Anthropic: platform.claude.com/docs/models/<model>/overview ("Context window · Max output");
 * - OpenAI: platform.openai.com/docs/models/<model>; GPT-5's 272,000-token prompt limit is in its
 *   launch post and in the API's refusal ("Input tokens exceed the configured limit of 272,000");
 * - Google: ai.google.dev/gemini-api/docs/models/<model> ("Input token limit", "Output token limit");
 * - DeepSeek: api-docs.deepseek.com/quick_start/pricing. deepseek-chat's numbers are DeepSeek-V3.1's
 *   and V3.2's; DeepSeek has since made it an alias of deepseek-v4-flash, to be withdrawn.
 * Keys are genai-prices' model ids, so dated names (claude-haiku-4-5-20251001) find them too.
 */
const LIMITS: Readonly<Record<string, Limits>> = {
  'anthropic:claude-haiku-4-5': { contextWindow: 200_000, maxOutputTokens: 64_000 },
  'anthropic:claude-sonnet-4-5': { contextWindow: 200_000, maxOutputTokens: 64_000 },
  'anthropic:claude-opus-4-5': { contextWindow: 200_000, maxOutputTokens: 64_000 },
  'anthropic:claude-sonnet-5': { contextWindow: 1_000_000, maxOutputTokens: 128_000 },
  'anthropic:claude-opus-5': { contextWindow: 1_000_000, maxOutputTokens: 128_000 },
  'anthropic:claude-opus-5-5': { contextWindow: 1_000_000, maxOutputTokens: 128_000 },
  'anthropic:claude-fable-5-1': { contextWindow: 1_000_000, maxOutputTokens: 128_000 },
  'openai:gpt-4.1': { contextWindow: 1_047_576, maxOutputTokens: 32_768 },
  'openai:gpt-4.1-mini': { contextWindow: 1_047_576, maxOutputTokens: 32_768 },
  'openai:gpt-4.1-nano': { contextWindow: 1_047_576, maxOutputTokens: 32_768 },
  'openai:gpt-5': { contextWindow: 400_000, maxInputTokens: 272_000, maxOutputTokens: 128_000 },
  'openai:gpt-5-mini': { contextWindow: 400_000, maxInputTokens: 272_000, maxOutputTokens: 128_000 },
  'openai:gpt-5-nano': { contextWindow: 400_000, maxInputTokens: 272_000, maxOutputTokens: 128_000 },
  'openai:o3': { contextWindow: 200_000, maxOutputTokens: 100_000 },
  'openai:o4-mini': { contextWindow: 200_000, maxOutputTokens: 100_000 },
  'google:gemini-2.5-flash': gemini(1_048_576, 65_536),
  'google:gemini-2.5-pro': gemini(1_048_576, 65_536),
  'google:gemini-3-pro-preview': gemini(1_048_576, 65_536),
  'google:gemini-3.1-pro-preview': gemini(1_048_576, 65_536),
  'deepseek:deepseek-chat': { contextWindow: 128_000, maxOutputTokens: 8_192 },
  'deepseek:deepseek-v4-flash': { contextWindow: 1_000_000, maxOutputTokens: 384_000 },
  'deepseek:deepseek-v4-pro': { contextWindow: 1_000_000, maxOutputTokens: 384_000 },
};

/** No context window known for a model: `route: cheapest` cannot tell whether a prompt fits it. */
export class UnknownModelError extends SwarmError<'SWARM_MODEL_UNKNOWN'> {
  constructor(modelId: string) {
    super(
      'SWARM_MODEL_UNKNOWN',
      `no context window known for model ${modelId}: add it to the topology: prices: { "${modelId}": { contextWindow: <tokens>, maxOutputTokens: <tokens> } }`,
    );
  }
}

/** No model of a pool's list holds the prompt. */
export class NoModelFitsError extends SwarmError<'SWARM_NO_MODEL_FITS'> {
  constructor(facts: readonly ModelFacts[], promptTokens: number, outputTokens: number) {
    const windows = facts.map((f) => `${f.model} (${f.maxInputTokens.toLocaleString('en')})`).join(', ');
    super(
      'SWARM_NO_MODEL_FITS',
      `no model holds a prompt of about ${promptTokens.toLocaleString('en')} tokens with ${outputTokens.toLocaleString('en')} for the answer: ${windows}. Add a model with a larger context window to the pool, or send less context`,
    );
  }
}

/** genai-prices' id for a model (`claude-haiku-4-5` for `claude-haiku-4-5-20251001`) and its window. */
function genaiModel(modelId: string): { id: string; contextWindow: number | undefined } | undefined {
  const { provider, model } = splitModelId(modelId);
  const found = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId: provider });
  return found
    ? { id: `${provider}:${found.model.id}`, contextWindow: found.model.context_window }
    : undefined;
}

function knownFacts(modelId: string): Omit<ModelFacts, 'model'> | undefined {
  const genai = genaiModel(modelId);
  const limits = LIMITS[modelId] ?? (genai && LIMITS[genai.id]);
  if (limits)
    return {
      contextWindow: limits.contextWindow,
      maxInputTokens: limits.maxInputTokens ?? limits.contextWindow,
      maxOutputTokens: limits.maxOutputTokens,
      source: 'swarm',
    };
  if (genai?.contextWindow === undefined) return undefined;
  return {
    contextWindow: genai.contextWindow,
    maxInputTokens: genai.contextWindow,
    maxOutputTokens: undefined,
    source: 'genai-prices',
  };
}

/**
 * A model's limits: the topology's `prices:` entry (its contextWindow, maxOutputTokens) over
 * swarm's table over genai-prices'. Throws UnknownModelError when no window is known.
 */
export function modelFacts(modelId: string, overrides?: PriceOverrides): ModelFacts {
  const spec = overrides && Object.hasOwn(overrides, modelId) ? overrides[modelId] : undefined;
  const known = knownFacts(modelId);
  if (spec?.contextWindow !== undefined)
    // The user's window is the whole truth: a prompt limit of the table's would be for another window.
    return {
      model: modelId,
      contextWindow: spec.contextWindow,
      maxInputTokens: spec.contextWindow,
      maxOutputTokens: spec.maxOutputTokens ?? known?.maxOutputTokens,
      source: 'topology',
    };
  if (!known) throw new UnknownModelError(modelId);
  return { model: modelId, ...known, maxOutputTokens: spec?.maxOutputTokens ?? known.maxOutputTokens };
}

/** The answer's share of the window: what the pool asks for, or less when the model cannot give that much. */
const outputReserve = (facts: ModelFacts, maxOutputTokens: number) =>
  Math.min(maxOutputTokens, facts.maxOutputTokens ?? maxOutputTokens);

/** True when a prompt of `promptTokens` and an answer of up to `maxOutputTokens` fit the model. */
export function fitsContext(facts: ModelFacts, promptTokens: number, maxOutputTokens: number): boolean {
  return (
    promptTokens <= facts.maxInputTokens &&
    promptTokens + outputReserve(facts, maxOutputTokens) <= facts.contextWindow
  );
}

/** Characters a token, by Anthropic's rule of thumb for English (OpenAI and Google say about 4). */
const CHARS_PER_TOKEN = 3.5;

/** Han, kana, Hangul and the full-width forms: about one token a character rather than one per 3.5. */
function isDenseScript(code: number): boolean {
  return (
    (code >= 0x3000 && code <= 0x30ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xac00 && code <= 0xd7af) ||
    (code >= 0xff00 && code <= 0xffef)
  );
}

/**
 * The prompt tokens a reservation counts: the estimate with room for what it misses (code and JSON
 * run to 2.5 characters a token against the estimate's 3.5; the message framing and a schema add
 * some), since a budget is only kept while real use stays within what was reserved.
 */
export function reservedPromptTokens(estimate: number): number {
  return Math.ceil(estimate * 1.4) + 64;
}

/**
 * A prompt's tokens before it is sent, with no tokenizer: characters / 3.5, and one token for each
 * Han, kana or Hangul character. For English prose that is at or a little above what the vendors
 * count (their rules of thumb: 3.5 characters a token for Claude, 4 for GPT and Gemini, so up to
 * ~15% over for those); it has not been measured against the tokenizers themselves. Code, JSON
 * and numbers have shorter tokens and can run over the estimate: near a window's edge, leave room.
 */
export function estimateTokens(text: string): number {
  let dense = 0;
  for (let i = 0; i < text.length; i++) if (isDenseScript(text.charCodeAt(i))) dense++;
  return Math.ceil((text.length - dense) / CHARS_PER_TOKEN + dense);
}
