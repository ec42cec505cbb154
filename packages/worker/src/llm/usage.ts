/**
 * What a task's model calls cost (issue #10 item 5): one ModelCall per call, answered, failed or
 * aborted, each priced by prices.ts; the finding's Usage sums them and names the answering model.
 */
import type { ModelCall, Usage } from '@swarm/core';
import type { CallResult } from './call';
import { costOf, type PriceOverrides, splitModelId } from './prices';

export interface PricedCall {
  call: ModelCall;
  priceVersion: string;
}

export function priceCall(
  result: CallResult,
  outcome: ModelCall['outcome'],
  overrides: PriceOverrides | undefined,
): PricedCall {
  const { provider, model } = splitModelId(result.modelId);
  const { costUsd, priceVersion } = costOf(result.modelId, result.tokens, overrides ? { overrides } : {});
  const call: ModelCall = {
    provider,
    model,
    outcome,
    ...result.tokens,
    costUsd,
    ...(result.estimated ? { estimated: true } : {}),
    ms: Math.round(result.ms),
    ...(result.failure && outcome !== 'answered' ? { error: result.failure.message } : {}),
  };
  return { call, priceVersion };
}

/**
 * The finding's usage: the answering call's model and tokens, and the cost of every call the task
 * took: `earlier` are those of its failed attempts (from its error history), then this attempt's.
 */
export function usageOf(
  calls: readonly PricedCall[],
  answered: PricedCall,
  earlier: readonly ModelCall[] = [],
): Usage {
  const { call } = answered;
  const all = [...earlier, ...calls.map((c) => c.call)];
  return {
    provider: call.provider,
    model: call.model,
    inputTokens: call.inputTokens,
    cachedInputTokens: call.cachedInputTokens,
    cacheWriteTokens: call.cacheWriteTokens,
    outputTokens: call.outputTokens,
    reasoningTokens: call.reasoningTokens,
    costUsd: all.reduce((sum, c) => sum + c.costUsd, 0),
    priceVersion: answered.priceVersion,
    calls: all,
  };
}
