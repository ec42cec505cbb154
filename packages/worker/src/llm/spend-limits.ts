/**
 * An llm pool's side of the ledger (issue #10 item 4): before each call, its worst case is
 * reserved against the swarm's budget, the pool's, and its provider's rate limits, in one atomic
 * step every process shares; after it, the reservation is settled to what the call really cost.
 * The swarm and pool budgets are always named, capped or not, so `swarm status` shows the spend.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import type { BudgetLimit, BudgetSpec, Ledger, ModelCall, ProviderSpec, RateLimit } from '@swarm/core';
import { reservedPromptTokens } from './models';
import type { Candidate } from './routing';

export const SWARM_BUDGET = 'swarm';
export const poolBudgetName = (type: string) => `pool:${type}`;

export type Reservation =
  | { outcome: 'reserved' }
  | { outcome: 'exhausted'; budget: string }
  /** `budget`: a budget's holds are in the way (any model would wait); else the provider's limit. */
  | { outcome: 'wait'; waitMs: number; limit: string; budget: boolean };

export interface SpendLimitsOptions {
  ledger: Ledger;
  swarm: string;
  poolType: string;
  swarmBudget: BudgetSpec | undefined;
  poolBudget: BudgetSpec | undefined;
  providerLimits(provider: string): ProviderSpec['limits'];
  /** A reservation not settled within this lapses: a call's time and a margin. */
  holdMs: number;
}

/** Settles a failed call to the ledger is retried this often before its hold is left to lapse. */
const SETTLE_TRIES = 3;

export class SpendLimits {
  readonly #options: SpendLimitsOptions;
  readonly #budgets: BudgetLimit[];
  /** Each holder's reservation token: a stalled worker's late settle must not free the hold its task's new owner made. */
  readonly #tokens = new Map<string, string>();

  constructor(options: SpendLimitsOptions) {
    this.#options = options;
    this.#budgets = [
      { name: SWARM_BUDGET, ...options.swarmBudget },
      { name: poolBudgetName(options.poolType), ...options.poolBudget },
    ];
  }

  #rates(provider: string): RateLimit[] {
    // Named even without limits: a cool-down holds up reservations against the name.
    return [{ name: provider, ...this.#options.providerLimits(provider) }];
  }

  async reserve(holder: string, candidate: Candidate, promptTokens: number): Promise<Reservation> {
    const { ledger, swarm, holdMs } = this.#options;
    const token = randomUUID();
    const result = await ledger.reserve(swarm, {
      holder,
      usd: candidate.worstCaseUsd,
      tokens: reservedPromptTokens(promptTokens) + candidate.maxOutputTokens,
      budgets: this.#budgets,
      rates: this.#rates(candidate.provider),
      holdMs,
      token,
    });
    if (result.outcome === 'reserved') this.#tokens.set(holder, token);
    if (result.outcome !== 'wait') return result;
    return { ...result, budget: this.#budgets.some((b) => b.name === result.limit) };
  }

  /**
   * Counts what the call cost, and gives back its reservation. Tried again on failure: a settle that
   * never lands leaves its hold to lapse, which counts the worst case as spent.
   */
  async settle(holder: string, candidate: Candidate, call: ModelCall): Promise<void> {
    const token = this.#tokens.get(holder);
    this.#tokens.delete(holder);
    const request = {
      holder,
      usd: call.costUsd,
      tokens: call.inputTokens + call.outputTokens,
      budgets: this.#budgets.map((b) => b.name),
      rates: this.#rates(candidate.provider),
      ...(token ? { token } : {}),
    };
    for (let tries = 1; ; tries++) {
      try {
        return await this.#options.ledger.settle(this.#options.swarm, request);
      } catch (error) {
        if (tries >= SETTLE_TRIES) throw error;
        await setTimeout(100 * 2 ** tries);
      }
    }
  }

  /** Holds up every process's calls to `provider` for `ms`. */
  coolDown(provider: string, ms: number): Promise<void> {
    return this.#options.ledger.coolDown(this.#options.swarm, provider, ms);
  }
}
