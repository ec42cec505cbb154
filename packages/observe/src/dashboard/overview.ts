import { type BudgetSpend, type Bus, budgetSpend, type DeadLetter, type SwarmStatus } from '@swarm/core';

/** A subscriber's cursor and how many findings it has yet to take. */
export interface SubscriberLag {
  name: string;
  cursor: string;
  /** Findings after the cursor, counted up to LAG_COUNT_LIMIT. */
  behind: number;
  /** True when there are more than `behind` (the count stopped at its limit). */
  atLeast: boolean;
}

/** What a budget has spent and, when it has a cap, what is left. */
export type BudgetView = BudgetSpend;

/** Everything the page shows of one swarm but its findings and dead letters. */
export interface SwarmOverview extends Omit<SwarmStatus, 'subscribers'> {
  subscribers: SubscriberLag[];
  /** The swarm's spend and each llm pool's, as the ledger counts it across every process. */
  budgets: BudgetView[];
  /** The `swarm` budget's spend: what every model call of the swarm cost; 0 when no model worker reported one. */
  costUsd: number;
}

/**
 * Counting findings past a cursor reads them: past this many the page says "1000+", so a
 * subscriber that stopped long ago does not make every refresh read its whole backlog.
 */
export const LAG_COUNT_LIMIT = 1_000;

export async function subscriberLag(
  bus: Bus,
  swarm: string,
  subscriber: { name: string; cursor: string },
  lastFinding: string,
): Promise<SubscriberLag> {
  if (subscriber.cursor === lastFinding) return { ...subscriber, behind: 0, atLeast: false };
  const after = await bus.readFindings(swarm, { after: subscriber.cursor, count: LAG_COUNT_LIMIT + 1 });
  return {
    ...subscriber,
    behind: Math.min(after.length, LAG_COUNT_LIMIT),
    atLeast: after.length > LAG_COUNT_LIMIT,
  };
}

/** The name llm pools record the whole swarm's spend under (see @swarm/worker's spend limits). */
const SWARM_BUDGET = 'swarm';

export async function swarmOverview(bus: Bus, swarm: string): Promise<SwarmOverview> {
  const [status, budgets] = await Promise.all([bus.status(swarm), bus.ledger.budgets(swarm)]);
  const subscribers = await Promise.all(
    status.subscribers.map((s) => subscriberLag(bus, swarm, s, status.lastFinding)),
  );
  const views = budgets.map(budgetSpend);
  return {
    ...status,
    subscribers,
    budgets: views,
    costUsd: views.find((b) => b.name === SWARM_BUDGET)?.spentUsd ?? 0,
  };
}

/** A dead letter as the page lists it: its raw fields only when its task did not parse (else they repeat it). */
export type DeadLetterView = Omit<DeadLetter, 'raw'> & { raw?: Record<string, string> };

export function deadLetterView({ raw, ...letter }: DeadLetter): DeadLetterView {
  return letter.task === undefined ? { ...letter, raw } : letter;
}
