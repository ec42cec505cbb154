/**
 * What a model call costs, from @pydantic/genai-prices' bundled table (never fetched at run time)
 * or from the topology's `prices:` (issue #10).
 *
 * genai-prices counts cache tokens as parts of the input: `input_tokens` is every prompt token,
 * `cache_read_tokens` and `cache_write_tokens` the parts the vendor read from or wrote to its
 * prompt cache, each at its own rate where the table has one (else at the input rate). swarm's
 * ModelCall counts them the same way, so they map one to one. The table's tiers (a higher rate for
 * every token of a prompt over 200k, Anthropic's and Google's long-context prices) and its prices
 * that change by date or time of day (DeepSeek's off-peak hours) are applied by genai-prices.
 * Anthropic's 1-hour cache writes (a dearer rate) are not told apart: swarm's counts have one
 * `cacheWriteTokens`, costed at the 5-minute rate.
 */
import { calcPrice, type ModelPrice as GenaiModelPrice, type TieredPrices } from '@pydantic/genai-prices';
import type { ModelCall, PriceSpec } from '@swarm/core';
import { SwarmError } from '@swarm/core';

/** The version of @pydantic/genai-prices installed; its table has no version of its own. */
export const GENAI_PRICES_VERSION = '0.1.8';
/** `priceVersion` of a cost from genai-prices' table. */
export const GENAI_PRICE_VERSION = `genai-prices@${GENAI_PRICES_VERSION}`;
/** `priceVersion` of a cost from the topology's `prices:`. */
export const TOPOLOGY_PRICE_VERSION = 'topology';

/** The topology's `prices:`: model id to override. */
export type PriceOverrides = Readonly<Record<string, PriceSpec>>;

/** A call's token counts, as ModelCall counts them: cache and reasoning tokens are parts of the totals. */
export type TokenCounts = Pick<ModelCall, 'inputTokens' | 'outputTokens'> &
  Partial<Pick<ModelCall, 'cachedInputTokens' | 'cacheWriteTokens' | 'reasoningTokens'>>;

/** Dollars per million tokens of one model, with tiers resolved for a prompt size. */
export interface ModelPrice {
  /** The model id asked for (provider:model). */
  model: string;
  inputPerMTok: number;
  /** Input tokens read from the prompt cache; the input rate where the vendor has no discount. */
  cachedInputPerMTok: number;
  /** Input tokens written to the prompt cache; the input rate where the vendor charges nothing more. */
  cacheWritePerMTok: number;
  outputPerMTok: number;
  priceVersion: string;
}

export interface PriceOptions {
  /** The topology's `prices:`; an entry with inputPerMTok and outputPerMTok wins over the table. */
  overrides?: PriceOverrides;
  /** When the call was made: prices that change by date or hour (DeepSeek's off-peak) use it. Default: now. */
  at?: Date;
}

export interface Cost {
  costUsd: number;
  priceVersion: string;
}

export class ModelIdError extends SwarmError<'SWARM_MODEL_ID_INVALID'> {
  constructor(modelId: string) {
    super(
      'SWARM_MODEL_ID_INVALID',
      `model id ${JSON.stringify(modelId)} has no provider: write provider:model, like anthropic:claude-haiku-4-5`,
    );
  }
}

/** No price for a model: a budget cannot be kept without one, so a pool using it must not start. */
export class UnknownPriceError extends SwarmError<'SWARM_PRICE_UNKNOWN'> {
  readonly model: string;
  constructor(modelId: string) {
    super(
      'SWARM_PRICE_UNKNOWN',
      `no price for model ${modelId}: genai-prices@${GENAI_PRICES_VERSION} does not list it. Add its price to the topology: prices: { "${modelId}": { inputPerMTok: <dollars>, outputPerMTok: <dollars> } }`,
    );
    this.model = modelId;
  }
}

/** Token counts that cannot be costed (a part larger than its whole, a negative count). */
export class InvalidUsageError extends SwarmError<'SWARM_USAGE_INVALID'> {
  constructor(modelId: string, problem: string) {
    super('SWARM_USAGE_INVALID', `cannot cost a call to ${modelId}: ${problem}`);
  }
}

/** `anthropic:claude-haiku-4-5` → provider and model; the model may hold colons (`openai:ft:gpt-4o:…`). */
export function splitModelId(modelId: string): { provider: string; model: string } {
  const colon = modelId.indexOf(':');
  if (colon <= 0 || colon === modelId.length - 1) throw new ModelIdError(modelId);
  return { provider: modelId.slice(0, colon), model: modelId.slice(colon + 1) };
}

/** A topology price, when the override for the model carries one (it may carry only limits). */
function overridePrice(modelId: string, overrides: PriceOverrides | undefined): ModelPrice | undefined {
  const spec = overrides && Object.hasOwn(overrides, modelId) ? overrides[modelId] : undefined;
  if (spec?.inputPerMTok === undefined || spec.outputPerMTok === undefined) return undefined;
  return {
    model: modelId,
    inputPerMTok: spec.inputPerMTok,
    cachedInputPerMTok: spec.cachedInputPerMTok ?? spec.inputPerMTok,
    cacheWritePerMTok: spec.cacheWritePerMTok ?? spec.inputPerMTok,
    outputPerMTok: spec.outputPerMTok,
    priceVersion: TOPOLOGY_PRICE_VERSION,
  };
}

type GenaiUsage = Record<string, number>;

function genaiUsage(tokens: TokenCounts): GenaiUsage {
  return {
    input_tokens: tokens.inputTokens,
    cache_read_tokens: tokens.cachedInputTokens ?? 0,
    cache_write_tokens: tokens.cacheWriteTokens ?? 0,
    output_tokens: tokens.outputTokens,
    output_reasoning_tokens: tokens.reasoningTokens ?? 0,
  };
}

/** genai-prices' answer for a model, or undefined when its table does not list it. */
function lookUp(modelId: string, usage: GenaiUsage, at: Date | undefined) {
  const { provider, model } = splitModelId(modelId);
  return calcPrice(usage, model, { providerId: provider, ...(at ? { timestamp: at } : {}) }) ?? undefined;
}

/** A rate of genai-prices' table for a prompt of `promptTokens`: a tier applies once the prompt passes its start. */
function rateFor(value: GenaiModelPrice[string], promptTokens: number): number | undefined {
  if (value === undefined || typeof value === 'number') return value;
  const tiered = value as TieredPrices;
  let rate = tiered.base;
  for (const tier of tiered.tiers) if (promptTokens > tier.start) rate = tier.price;
  return rate;
}

/**
 * A model's prices per million tokens, for a prompt of `promptTokens` (default 0: the base tier).
 * Throws UnknownPriceError when neither the topology nor genai-prices has one: a pool calls it for
 * each of its models before it starts.
 */
export function priceOf(modelId: string, options: PriceOptions & { promptTokens?: number } = {}): ModelPrice {
  const override = overridePrice(modelId, options.overrides);
  if (override) return override;
  const found = lookUp(modelId, { input_tokens: 0, output_tokens: 0 }, options.at);
  if (!found) throw new UnknownPriceError(modelId);
  const rates = found.model_price;
  const prompt = options.promptTokens ?? 0;
  const input = rateFor(rates.input_mtok, prompt);
  const output = rateFor(rates.output_mtok, prompt);
  if (input === undefined || output === undefined) throw new UnknownPriceError(modelId);
  return {
    model: modelId,
    inputPerMTok: input,
    cachedInputPerMTok: rateFor(rates.cache_read_mtok, prompt) ?? input,
    cacheWritePerMTok: rateFor(rates.cache_write_mtok, prompt) ?? input,
    outputPerMTok: output,
    priceVersion: GENAI_PRICE_VERSION,
  };
}

function checkCounts(modelId: string, tokens: TokenCounts): void {
  for (const [name, value] of Object.entries(tokens))
    if (value !== undefined && (!Number.isFinite(value) || value < 0))
      throw new InvalidUsageError(modelId, `${name} is ${value}, not a count of tokens`);
  const cached = (tokens.cachedInputTokens ?? 0) + (tokens.cacheWriteTokens ?? 0);
  if (cached > tokens.inputTokens)
    throw new InvalidUsageError(
      modelId,
      `cachedInputTokens + cacheWriteTokens (${cached}) exceed inputTokens (${tokens.inputTokens}): they are parts of it (Anthropic reports cache tokens apart from input_tokens; add them in)`,
    );
  if ((tokens.reasoningTokens ?? 0) > tokens.outputTokens)
    throw new InvalidUsageError(
      modelId,
      `reasoningTokens (${tokens.reasoningTokens}) exceed outputTokens (${tokens.outputTokens}): they are a part of it`,
    );
}

/** What a call cost, in dollars, and which price table says so. */
export function costOf(modelId: string, tokens: TokenCounts, options: PriceOptions = {}): Cost {
  checkCounts(modelId, tokens);
  const override = overridePrice(modelId, options.overrides);
  if (override) {
    const cached = tokens.cachedInputTokens ?? 0;
    const written = tokens.cacheWriteTokens ?? 0;
    const costUsd =
      ((tokens.inputTokens - cached - written) * override.inputPerMTok +
        cached * override.cachedInputPerMTok +
        written * override.cacheWritePerMTok +
        tokens.outputTokens * override.outputPerMTok) /
      1e6;
    return { costUsd, priceVersion: TOPOLOGY_PRICE_VERSION };
  }
  const found = lookUp(modelId, genaiUsage(tokens), options.at);
  if (!found) throw new UnknownPriceError(modelId);
  return { costUsd: found.total_price, priceVersion: GENAI_PRICE_VERSION };
}

/**
 * The most a call can cost: every prompt token at the dearer of the input and cache-write rates
 * (a prompt the vendor writes to its cache costs more than one it does not), at the prompt's tier,
 * and every output token the call may produce. A budget reserves this before the call.
 */
export function worstCaseCostOf(
  modelId: string,
  promptTokens: number,
  maxOutputTokens: number,
  options: PriceOptions = {},
): Cost {
  checkCounts(modelId, { inputTokens: promptTokens, outputTokens: maxOutputTokens });
  const price = priceOf(modelId, { ...options, promptTokens });
  const inputRate = Math.max(price.inputPerMTok, price.cacheWritePerMTok);
  return {
    costUsd: (promptTokens * inputRate + maxOutputTokens * price.outputPerMTok) / 1e6,
    priceVersion: price.priceVersion,
  };
}
