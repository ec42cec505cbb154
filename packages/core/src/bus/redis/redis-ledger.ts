import { keys } from '../../keys';
import type {
  BudgetState,
  LedgerStore,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
} from '../../ledger/ledger';
import type { RedisConnection } from './connections';
import type { ScriptCaller } from './scripts';

/** The ledger's store on Redis: the ledger-*.lua scripts, one swarm's keys per call. */
export class RedisLedger implements LedgerStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly call: ScriptCaller,
  ) {}

  #keys(swarm: string): string[] {
    return [
      keys.ledgerHolds(swarm),
      keys.ledgerExpiries(swarm),
      keys.ledgerBudgets(swarm),
      keys.ledgerRates(swarm),
    ];
  }

  async ledgerReserve(swarm: string, request: ReserveRequest): Promise<ReserveResult> {
    const { holder, ...rest } = request;
    const [outcome, a, b] = (await this.call('ledgerReserve', this.#keys(swarm), [
      holder,
      JSON.stringify(rest),
    ])) as [string, string | number, string];
    if (outcome === 'exhausted') return { outcome, budget: String(a) };
    if (outcome === 'wait') return { outcome, waitMs: Number(a), limit: b };
    return { outcome: 'reserved' };
  }

  async ledgerSettle(swarm: string, request: SettleRequest): Promise<void> {
    const { holder, ...spend } = request;
    await this.call('ledgerSettle', this.#keys(swarm), [holder, JSON.stringify(spend)]);
  }

  async ledgerRelease(swarm: string, holder: string, token?: string): Promise<void> {
    await this.call('ledgerRelease', this.#keys(swarm), [holder, token ?? '']);
  }

  async ledgerCoolDown(swarm: string, name: string, ms: number): Promise<void> {
    await this.call('ledgerCoolDown', [keys.ledgerRates(swarm)], [name, ms]);
  }

  async ledgerBudgets(swarm: string): Promise<BudgetState[]> {
    const redis = await this.connection.client();
    return budgetsFromHash(await redis.hgetall(keys.ledgerBudgets(swarm)));
  }
}

const FIELDS = ['spentUsd', 'spentTokens', 'heldUsd', 'heldTokens', 'limitUsd', 'limitTokens'] as const;

/** The budgets hash (`<budget>:<field>` → number) as one state per budget, by name. */
function budgetsFromHash(hash: Record<string, string>): BudgetState[] {
  const byName = new Map<string, BudgetState>();
  for (const [key, value] of Object.entries(hash)) {
    // Budget names may hold colons (`pool:ask`): the field is what follows the last one.
    const cut = key.lastIndexOf(':');
    const name = key.slice(0, cut);
    const field = key.slice(cut + 1) as (typeof FIELDS)[number];
    if (cut <= 0 || !FIELDS.includes(field)) continue;
    let state = byName.get(name);
    if (!state) {
      state = { name, spentUsd: 0, spentTokens: 0, heldUsd: 0, heldTokens: 0 };
      byName.set(name, state);
    }
    state[field] = Number(value);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
