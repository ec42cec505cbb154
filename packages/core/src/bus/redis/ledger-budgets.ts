import type { BudgetState } from '../../ledger/ledger';

const FIELDS = ['spentUsd', 'spentTokens', 'heldUsd', 'heldTokens', 'limitUsd', 'limitTokens'] as const;

/** The budgets hash (`<budget>:<field>` → number) as one state per budget, by name. */
export function budgetsFromHash(hash: Record<string, string>): BudgetState[] {
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
