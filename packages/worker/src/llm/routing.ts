/**
 * Which models a task tries, in order (issue #10 `route`): `ordered` takes the pool's model, then
 * its fallbacks; `cheapest` sorts them by what the task can cost on each, leaving out those whose
 * context window cannot hold the prompt. A context that a model answered stays with it while it is
 * healthy, so the vendor's prompt cache of that context stays warm.
 */
import { SwarmError } from '@swarm/core';
import { fitsContext, type ModelFacts, modelFacts, NoModelFitsError, reservedPromptTokens } from './models';
import { type PriceOverrides, splitModelId, worstCaseCostOf } from './prices';

export interface Candidate {
  /** provider:model */
  modelId: string;
  provider: string;
  /** The pool's answer limit, or the model's own where that is lower. */
  maxOutputTokens: number;
  /** Prompt tokens at the input price and the whole answer at the output price. */
  worstCaseUsd: number;
}

export interface RouteRequest {
  models: readonly string[];
  route: 'ordered' | 'cheapest';
  promptTokens: number;
  maxOutputTokens: number;
  overrides?: PriceOverrides;
}

/** `cheapest` must know every model's window; `ordered` sends to a model whose window is unknown. */
function factsOf(modelId: string, request: RouteRequest): ModelFacts | undefined {
  if (request.route === 'cheapest') return modelFacts(modelId, request.overrides);
  try {
    return modelFacts(modelId, request.overrides);
  } catch (error) {
    if (error instanceof SwarmError && error.code === 'SWARM_MODEL_UNKNOWN') return undefined;
    throw error;
  }
}

/**
 * The models to try for a prompt, first choice first. Throws NoModelFitsError when none holds it
 * (no retry can help that task).
 */
export function routeCandidates(request: RouteRequest): Candidate[] {
  const known: ModelFacts[] = [];
  const candidates: Candidate[] = [];
  for (const modelId of new Set(request.models)) {
    const facts = factsOf(modelId, request);
    if (facts) known.push(facts);
    if (facts && !fitsContext(facts, request.promptTokens, request.maxOutputTokens)) continue;
    const maxOutputTokens = Math.min(request.maxOutputTokens, facts?.maxOutputTokens ?? Infinity);
    const { costUsd } = worstCaseCostOf(
      modelId,
      reservedPromptTokens(request.promptTokens),
      maxOutputTokens,
      {
        ...(request.overrides ? { overrides: request.overrides } : {}),
      },
    );
    candidates.push({
      modelId,
      provider: splitModelId(modelId).provider,
      maxOutputTokens,
      worstCaseUsd: costUsd,
    });
  }
  if (candidates.length === 0)
    throw new NoModelFitsError(known, request.promptTokens, request.maxOutputTokens);
  // Array.prototype.sort is stable: on a tie the pool's order decides.
  if (request.route === 'cheapest') candidates.sort((a, b) => a.worstCaseUsd - b.worstCaseUsd);
  return candidates;
}

/** How many contexts a process remembers the model of; the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000;

/**
 * Per process: the model that last answered for each context. Nothing is shared between
 * processes; each worker warms the cache it uses.
 */
export class StickyRoutes {
  readonly #byContext = new Map<string, string>();

  /** The candidates with the model that last answered for this context first, if it is among them. */
  order(candidates: readonly Candidate[], context: string | undefined): Candidate[] {
    const sticky = context === undefined ? undefined : this.#byContext.get(context);
    const first = candidates.find((c) => c.modelId === sticky);
    return first ? [first, ...candidates.filter((c) => c !== first)] : [...candidates];
  }

  answered(context: string | undefined, modelId: string): void {
    if (context === undefined) return;
    this.#byContext.delete(context);
    this.#byContext.set(context, modelId);
    if (this.#byContext.size > MAX_REMEMBERED) {
      const oldest = this.#byContext.keys().next().value;
      if (oldest !== undefined) this.#byContext.delete(oldest);
    }
  }
}
