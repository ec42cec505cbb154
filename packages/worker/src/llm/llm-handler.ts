/**
 * The `llm` handler kind (issue #10): each task becomes a prompt, the prompt goes to the models
 * routing picks (falling back, hedging, within budgets and rate limits every process shares), and
 * the first good answer becomes the finding, with what every call of the attempt cost.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { BudgetSpec, Bus, LlmSpec } from '@swarm/core';
import { TaskDeferredError, UnretryableError } from '../task-errors';
import type { Handler, HandlerResult } from '../types';
import { runAttempt } from './attempt';
import { callModel } from './call';
import { modelFacts, NoModelFitsError } from './models';
import { answerFormat } from './output';
import { type PriceOverrides, priceOf } from './prices';
import { buildPrompt, renderPrompt } from './prompt';
import { modelRegistry, type ProviderSpecs } from './providers';
import { type Candidate, routeCandidates, StickyRoutes } from './routing';
import { SpendLimits } from './spend-limits';
import { usageOf } from './usage';
import { VendorHealth } from './vendor-health';

/** What a topology says about models beyond one pool: its `providers:`, `prices:` and the swarm's `budget`. */
export interface ModelSettings {
  providers?: ProviderSpecs;
  prices?: PriceOverrides;
  swarmBudget?: BudgetSpec;
}

export interface LlmHandlerOptions {
  bus: Bus;
  swarm: string;
  /** The pool: its task type, its time per task, and its budget. */
  pool: { type: string; timeoutMs: number; budget?: BudgetSpec | undefined };
  llm: LlmSpec;
  models?: ModelSettings;
  /** Where keys come from when the providers block names none (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A reservation outlives its call by this much before it lapses: time to settle it. */
const HOLD_MARGIN_MS = 10_000;

/**
 * The handler of an llm pool. Everything that can be checked before the first task is checked
 * here, so a pool that cannot work fails its start: a provider with no key (named by the variable
 * to set), a model with no price, a model with no context window under `route: cheapest`, an
 * output schema that cannot be checked.
 */
export function llmHandler(options: LlmHandlerOptions): Handler {
  const { bus, swarm, pool, llm } = options;
  const overrides = options.models?.prices;
  const models = [...new Set([llm.model, ...llm.fallback])];
  const registry = modelRegistry(options.models?.providers ?? {}, models, options.env);
  for (const model of models) {
    priceOf(model, overrides ? { overrides } : {});
    if (llm.route === 'cheapest') modelFacts(model, overrides);
  }
  if (llm.hedge && models.length < 2)
    throw new Error('hedge needs a second model to ask: add one under fallback');
  const format = answerFormat(llm.output);
  // Each model's share of the task's time, so that a stalled call leaves time for the next.
  const callTimeoutMs = Math.max(1, Math.floor(pool.timeoutMs / models.length));
  const limits = new SpendLimits({
    ledger: bus.ledger,
    swarm,
    poolType: pool.type,
    swarmBudget: options.models?.swarmBudget,
    poolBudget: pool.budget,
    providerLimits: (provider) => registry.limits(provider),
    holdMs: callTimeoutMs + HOLD_MARGIN_MS,
  });
  const sticky = new StickyRoutes();
  const health = new VendorHealth();

  return async (ctx): Promise<HandlerResult> => {
    const { task } = ctx;
    const context = llm.context === 'full' && task.context !== undefined ? await ctx.context() : undefined;
    const prompt = buildPrompt({
      ...(llm.system !== undefined ? { system: llm.system } : {}),
      ...(context !== undefined ? { context } : {}),
      prompt: renderPrompt(llm.prompt, task),
    });
    let candidates: Candidate[];
    try {
      candidates = routeCandidates({
        models,
        route: llm.route,
        promptTokens: prompt.tokens,
        maxOutputTokens: llm.maxOutputTokens,
        ...(overrides ? { overrides } : {}),
      });
    } catch (error) {
      // No retry makes the prompt smaller.
      if (error instanceof NoModelFitsError) throw new UnretryableError(error.message, { cause: error });
      throw error;
    }
    // Entry ids are unique within a task type's stream only: two pools of a swarm can see the same.
    const holder = `${task.type}/${ctx.deliveryId}`;
    const attempt = () =>
      runAttempt({
        candidates: sticky.order(candidates, task.context),
        holder,
        promptTokens: prompt.tokens,
        hedgeAfterMs: llm.hedge?.afterMs,
        format,
        limits,
        health,
        overrides,
        signal: ctx.signal,
        log: ctx.log,
        call: (candidate, signal) =>
          callModel({
            modelId: candidate.modelId,
            model: registry.model(candidate.modelId),
            system: prompt.system,
            messages: prompt.messages,
            format,
            maxOutputTokens: candidate.maxOutputTokens,
            temperature: llm.temperature,
            timeoutMs: callTimeoutMs,
            promptTokens: prompt.tokens,
            signal,
            secrets: registry.secrets,
          }),
      });
    const answer = await waitingInPlace(attempt, ctx.signal);
    sticky.answered(task.context, answer.candidate.modelId);
    const earlier = task.errors.flatMap((e) => e.calls ?? []);
    const usage = usageOf(answer.calls, answer.answered, earlier);
    if (ctx.log.isLevelEnabled('debug'))
      ctx.log.debug(
        { model: answer.candidate.modelId, costUsd: usage.costUsd, calls: usage.calls.length },
        'model answered',
      );
    return { ...answer.parsed, usage };
  };
}

/** Waits this short are waited out holding the task; longer ones put it back (deferred). */
const IN_PLACE_WAIT_MS = 5_000;

/**
 * Runs the attempt, and when a limit asks for a short wait, waits it out with the task in hand
 * and tries again: deferring put the task back only for the pool to read it (or the next one)
 * at once and be told to wait again, thousands of times a second behind a rate limit's backlog.
 * A longer wait, or one past the task's time, defers as before.
 */
async function waitingInPlace<T>(attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
  let waited = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TaskDeferredError) || waited + error.delayMs > IN_PLACE_WAIT_MS) throw error;
      waited += error.delayMs;
      await sleep(error.delayMs, undefined, { signal }).catch(() => {
        throw error;
      });
    }
  }
}
