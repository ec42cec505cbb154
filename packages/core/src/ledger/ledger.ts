import { LedgerError } from '../errors';

/**
 * Budgets and rate limits every process of a swarm shares, enforced before work is done: a holder
 * (one delivery's model call) reserves its worst case against every budget and limit that applies,
 * in one atomic step, and settles to what it really spent afterwards. Nothing is counted in a
 * process's memory, so N workers never get N times a limit. The reservation belongs to its holder:
 * the same holder reserving again (the task's next delivery, after its worker died) replaces it,
 * and one left behind lapses after `holdMs`. A replaced or lapsed hold counts as spent at its worst
 * case (its call may well have run), and a settle carrying another reservation's token counts its
 * spend without touching the hold now in place: a budget errs toward counting too much, never too
 * little.
 */

/** A spending cap: `usd` and `tokens` are limits over the life of the swarm (absent: no cap). */
export interface BudgetLimit {
  /** `swarm`, or `pool:<task type>`: what the spend is counted under. */
  name: string;
  usd?: number;
  tokens?: number;
}

/** A rate limit on one provider (or any shared resource), refilled continuously (GCRA). */
export interface RateLimit {
  name: string;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Holds at once. */
  concurrency?: number;
}

export interface ReserveRequest {
  /** Who holds the reservation: a delivery, or one of its calls (`<delivery>/hedge`). */
  holder: string;
  /** Worst case of the work, counted against every budget. */
  usd: number;
  tokens: number;
  budgets: BudgetLimit[];
  rates: RateLimit[];
  /** A hold not settled or released within this lapses (its holder died, say). */
  holdMs: number;
  /** This reservation's own mark: a settle or release that carries another leaves its hold alone. */
  token?: string;
}

export type ReserveResult =
  | { outcome: 'reserved' }
  /** A budget cannot fit this even with nothing held: it is spent. */
  | { outcome: 'exhausted'; budget: string }
  /** A limit or a budget's holds are in the way: try again after `waitMs`. */
  | { outcome: 'wait'; waitMs: number; limit: string };

export interface Spend {
  usd: number;
  tokens: number;
}

/** Settling names the budgets and rates again: a hold that lapsed meanwhile still gets its spend counted. */
export interface SettleRequest extends Spend {
  holder: string;
  budgets: string[];
  rates: RateLimit[];
  /** The token the reservation was made with (see ReserveRequest.token). */
  token?: string;
}

export interface BudgetState {
  name: string;
  spentUsd: number;
  spentTokens: number;
  heldUsd: number;
  heldTokens: number;
  /** The limits last reserved against (absent: none). */
  limitUsd?: number;
  limitTokens?: number;
}

/** A budget's state with what is left under each cap (holds of calls under way count as spent). */
export interface BudgetSpend extends BudgetState {
  leftUsd?: number;
  leftTokens?: number;
}

/** What is left of a budget: what `swarm status` and the dashboard show. */
export function budgetSpend(state: BudgetState): BudgetSpend {
  const left = (limit: number | undefined, spent: number, held: number) =>
    limit === undefined ? undefined : Math.max(0, limit - spent - held);
  const leftUsd = left(state.limitUsd, state.spentUsd, state.heldUsd);
  const leftTokens = left(state.limitTokens, state.spentTokens, state.heldTokens);
  return {
    ...state,
    ...(leftUsd !== undefined ? { leftUsd } : {}),
    ...(leftTokens !== undefined ? { leftTokens } : {}),
  };
}

export interface Ledger {
  reserve(swarm: string, request: ReserveRequest): Promise<ReserveResult>;
  /** Adds what was really spent, and gives back the holder's reservation. */
  settle(swarm: string, request: SettleRequest): Promise<void>;
  /** Gives back a holder's reservation, nothing spent (the work was not done). */
  release(swarm: string, holder: string, token?: string): Promise<void>;
  /**
   * Holds up every reservation against rate limit `name` for `ms` (a vendor that keeps failing,
   * or asked for it with Retry-After): they answer `wait` until then. Never shortens one in force.
   */
  coolDown(swarm: string, name: string, ms: number): Promise<void>;
  budgets(swarm: string): Promise<BudgetState[]>;
}

/** What a transport stores; the ledger checks its arguments first. */
export interface LedgerStore {
  ledgerReserve(swarm: string, request: ReserveRequest): Promise<ReserveResult>;
  ledgerSettle(swarm: string, request: SettleRequest): Promise<void>;
  ledgerRelease(swarm: string, holder: string, token?: string): Promise<void>;
  ledgerCoolDown(swarm: string, name: string, ms: number): Promise<void>;
  ledgerBudgets(swarm: string): Promise<BudgetState[]>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/;

function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new LedgerError(`invalid ${kind} name ${JSON.stringify(name)}`);
}

function checkAmount(what: string, value: number | undefined, positive = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0))
    throw new LedgerError(`${what} must be a ${positive ? 'positive' : 'non-negative'} number, got ${value}`);
}

function checkRates(rates: RateLimit[]): void {
  for (const rate of rates) {
    checkName('rate limit', rate.name);
    checkAmount(`${rate.name} requestsPerMinute`, rate.requestsPerMinute, true);
    checkAmount(`${rate.name} tokensPerMinute`, rate.tokensPerMinute, true);
    checkAmount(`${rate.name} concurrency`, rate.concurrency, true);
  }
}

/** The ledger over a transport's store, checking what it is given. */
export function ledgerOver(store: LedgerStore): Ledger {
  return {
    async reserve(swarm, request) {
      checkName('holder', request.holder);
      checkAmount('usd', request.usd);
      checkAmount('tokens', request.tokens);
      checkAmount('holdMs', request.holdMs, true);
      for (const budget of request.budgets) {
        checkName('budget', budget.name);
        checkAmount(`${budget.name} usd`, budget.usd);
        checkAmount(`${budget.name} tokens`, budget.tokens);
      }
      checkRates(request.rates);
      return store.ledgerReserve(swarm, request);
    },
    async settle(swarm, request) {
      checkName('holder', request.holder);
      checkAmount('usd', request.usd);
      checkAmount('tokens', request.tokens);
      for (const name of request.budgets) checkName('budget', name);
      checkRates(request.rates);
      return store.ledgerSettle(swarm, request);
    },
    async release(swarm, holder, token) {
      checkName('holder', holder);
      return store.ledgerRelease(swarm, holder, token);
    },
    async coolDown(swarm, name, ms) {
      checkName('rate limit', name);
      checkAmount('cool-down ms', ms);
      return store.ledgerCoolDown(swarm, name, Math.ceil(ms));
    },
    budgets: (swarm) => store.ledgerBudgets(swarm),
  };
}

/** How long to wait when budget holds are in the way: they settle within a call's time. */
export const HELD_BUDGET_WAIT_MS = 1_000;
/** How long to wait when every concurrency slot is held. */
export const CONCURRENCY_WAIT_MS = 250;
