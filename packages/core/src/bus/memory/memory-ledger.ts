import type { Clock } from '../../clock';
import {
  type BudgetState,
  CONCURRENCY_WAIT_MS,
  HELD_BUDGET_WAIT_MS,
  type LedgerStore,
  type ReserveRequest,
  type ReserveResult,
  type SettleRequest,
} from '../../ledger/ledger';

interface Hold {
  usd: number;
  tokens: number;
  budgets: string[];
  rates: string[];
  lapsesAt: number;
  token: string;
}

interface Budget {
  spentUsd: number;
  spentTokens: number;
  heldUsd: number;
  heldTokens: number;
  limitUsd?: number;
  limitTokens?: number;
}

interface Rate {
  /** GCRA's theoretical arrival times, for requests and for tokens. */
  rtat: number;
  ttat: number;
  active: number;
  /** The end of a cool-down. */
  until: number;
}

interface SwarmLedger {
  holds: Map<string, Hold>;
  budgets: Map<string, Budget>;
  rates: Map<string, Rate>;
}

/** The in-process twin of ledger-reserve.lua, ledger-settle.lua and ledger-release.lua, step for step. */
export class MemoryLedger implements LedgerStore {
  readonly #swarms = new Map<string, SwarmLedger>();

  constructor(private readonly clock: Clock) {}

  #of(swarm: string): SwarmLedger {
    let ledger = this.#swarms.get(swarm);
    if (!ledger) {
      ledger = { holds: new Map(), budgets: new Map(), rates: new Map() };
      this.#swarms.set(swarm, ledger);
    }
    return ledger;
  }

  #budget(ledger: SwarmLedger, name: string): Budget {
    let budget = ledger.budgets.get(name);
    if (!budget) {
      budget = { spentUsd: 0, spentTokens: 0, heldUsd: 0, heldTokens: 0 };
      ledger.budgets.set(name, budget);
    }
    return budget;
  }

  #rate(ledger: SwarmLedger, name: string): Rate {
    let rate = ledger.rates.get(name);
    if (!rate) {
      rate = { rtat: 0, ttat: 0, active: 0, until: 0 };
      ledger.rates.set(name, rate);
    }
    return rate;
  }

  /** As ledger.lua's releaseHold: a token not the hold's leaves it; `spent` counts it at its worst case. */
  #releaseHold(ledger: SwarmLedger, holder: string, token: string, spent: boolean): Hold | undefined {
    const hold = ledger.holds.get(holder);
    if (!hold || (token !== '' && hold.token !== token)) return undefined;
    ledger.holds.delete(holder);
    for (const name of hold.budgets) {
      const budget = this.#budget(ledger, name);
      budget.heldUsd = Math.max(0, budget.heldUsd - hold.usd);
      budget.heldTokens = Math.max(0, budget.heldTokens - hold.tokens);
      if (spent) {
        budget.spentUsd += hold.usd;
        budget.spentTokens += hold.tokens;
      }
    }
    for (const name of hold.rates) {
      const rate = this.#rate(ledger, name);
      rate.active = Math.max(0, rate.active - 1);
    }
    return hold;
  }

  async ledgerReserve(swarm: string, request: ReserveRequest): Promise<ReserveResult> {
    const ledger = this.#of(swarm);
    const now = this.clock.now();
    for (const [holder, hold] of ledger.holds)
      if (hold.lapsesAt <= now) this.#releaseHold(ledger, holder, '', true);
    this.#releaseHold(ledger, request.holder, '', true);

    for (const b of request.budgets) {
      const budget = this.#budget(ledger, b.name);
      const meters = [
        [b.usd, budget.spentUsd, budget.heldUsd, request.usd],
        [b.tokens, budget.spentTokens, budget.heldTokens, request.tokens],
      ] as const;
      for (const [limit, spent, held, want] of meters) {
        if (limit === undefined) continue;
        if (spent + want > limit) return { outcome: 'exhausted', budget: b.name };
        if (spent + held + want > limit)
          return { outcome: 'wait', waitMs: HELD_BUDGET_WAIT_MS, limit: b.name };
      }
    }

    // GCRA: a limit of n per minute admits one unit every 60000/n ms, with a burst of one second's worth.
    const updates: (() => void)[] = [];
    for (const r of request.rates) {
      const rate = this.#rate(ledger, r.name);
      if (rate.until > now) return { outcome: 'wait', waitMs: rate.until - now, limit: r.name };
      if (r.concurrency !== undefined && rate.active + 1 > r.concurrency)
        return { outcome: 'wait', waitMs: CONCURRENCY_WAIT_MS, limit: r.name };
      const meters = [
        ['rtat', r.requestsPerMinute, 1],
        ['ttat', r.tokensPerMinute, request.tokens],
      ] as const;
      for (const [field, perMinute, cost] of meters) {
        if (perMinute === undefined) continue;
        const interval = 60_000 / perMinute;
        const tat = Math.max(rate[field], now);
        const burst = Math.max(interval, 1_000);
        if (tat - now > burst - interval)
          return { outcome: 'wait', waitMs: Math.ceil(tat - now - (burst - interval)), limit: r.name };
        updates.push(() => {
          rate[field] = tat + interval * cost;
        });
      }
    }

    for (const b of request.budgets) {
      const budget = this.#budget(ledger, b.name);
      budget.heldUsd += request.usd;
      budget.heldTokens += request.tokens;
      budget.limitUsd = b.usd;
      budget.limitTokens = b.tokens;
    }
    for (const r of request.rates) this.#rate(ledger, r.name).active += 1;
    for (const update of updates) update();
    ledger.holds.set(request.holder, {
      usd: request.usd,
      tokens: request.tokens,
      budgets: request.budgets.map((b) => b.name),
      rates: request.rates.map((r) => r.name),
      lapsesAt: now + request.holdMs,
      token: request.token ?? '',
    });
    return { outcome: 'reserved' };
  }

  async ledgerSettle(swarm: string, request: SettleRequest): Promise<void> {
    const ledger = this.#of(swarm);
    const now = this.clock.now();
    const hold = this.#releaseHold(ledger, request.holder, request.token ?? '', false);
    for (const name of request.budgets) {
      const budget = this.#budget(ledger, name);
      budget.spentUsd += request.usd;
      budget.spentTokens += request.tokens;
    }
    if (!hold || hold.tokens <= request.tokens) return;
    for (const r of request.rates) {
      const rate = this.#rate(ledger, r.name);
      if (r.tokensPerMinute !== undefined && rate.ttat > now)
        rate.ttat = Math.max(now, rate.ttat - ((hold.tokens - request.tokens) * 60_000) / r.tokensPerMinute);
    }
  }

  async ledgerRelease(swarm: string, holder: string, token?: string): Promise<void> {
    this.#releaseHold(this.#of(swarm), holder, token ?? '', false);
  }

  async ledgerCoolDown(swarm: string, name: string, ms: number): Promise<void> {
    const rate = this.#rate(this.#of(swarm), name);
    rate.until = Math.max(rate.until, this.clock.now() + ms);
  }

  async ledgerBudgets(swarm: string): Promise<BudgetState[]> {
    return [...this.#of(swarm).budgets]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, b]) => ({
        name,
        spentUsd: b.spentUsd,
        spentTokens: b.spentTokens,
        heldUsd: b.heldUsd,
        heldTokens: b.heldTokens,
        ...(b.limitUsd !== undefined ? { limitUsd: b.limitUsd } : {}),
        ...(b.limitTokens !== undefined ? { limitTokens: b.limitTokens } : {}),
      }));
  }
}
