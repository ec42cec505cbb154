import type { BudgetState, SwarmStatus } from '@swarm/core';
import type { Command } from '../command';
import { redisBus, withBus } from '../require-redis';
import { formatTokens, formatUsd } from '../usage-format';

function ageOf(ms: number): string {
  if (ms === 0) return '-';
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

/** What a budget has spent and, when it has a cap, what is left (holds of calls under way count as spent). */
export interface BudgetSpend extends BudgetState {
  leftUsd?: number;
  leftTokens?: number;
}

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

/** `spend swarm: $0.0123 of $5.00 ($4.9827 left), 12k tokens, $0.0050 held by calls under way`. */
function formatSpend(b: BudgetSpend): string {
  const usd = `${formatUsd(b.spentUsd)}${b.limitUsd !== undefined ? ` of ${formatUsd(b.limitUsd)} (${formatUsd(b.leftUsd ?? 0)} left)` : ''}`;
  const tokens = `${formatTokens(b.spentTokens)}${b.limitTokens !== undefined ? ` of ${formatTokens(b.limitTokens)} (${formatTokens(b.leftTokens ?? 0)} left)` : ''} tokens`;
  const held = b.heldUsd > 0 || b.heldTokens > 0 ? `, ${formatUsd(b.heldUsd)} held by calls under way` : '';
  return `  spend ${b.name}: ${usd}, ${tokens}${held}`;
}

export function formatStatus(s: SwarmStatus, budgets: readonly BudgetSpend[] = []): string {
  const lines = [`swarm ${s.swarm}: ${s.findings} finding(s), ${s.deadLetters} dead letter(s)`];
  if (s.types.length === 0) lines.push('  no task types yet');
  for (const t of s.types)
    lines.push(
      `  ${t.type.padEnd(24)} waiting ${String(t.waiting).padStart(6)}  in flight ${String(t.inFlight).padStart(5)}  delayed ${String(t.delayed).padStart(5)}  consumers ${String(t.consumers).padStart(3)}  oldest ${ageOf(t.oldestAgeMs)}`,
    );
  for (const shard of s.shards)
    lines.push(`  shard ${shard.id} (${shard.specialization}): context ${shard.context ?? 'none'}`);
  for (const sub of s.subscribers)
    lines.push(
      `  subscriber ${sub.name}: at ${sub.cursor}${sub.cursor === s.lastFinding ? ' (up to date)' : ` (newest ${s.lastFinding})`}`,
    );
  for (const budget of budgets) lines.push(formatSpend(budget));
  for (const e of s.errors)
    lines.push(
      `  failing: ${e.consumer} (${e.type}) ${e.what}, ${e.failures} times since ${new Date(e.since).toISOString()}: ${e.error}`,
    );
  return lines.join('\n');
}

export const status: Command = {
  name: 'status',
  usage: 'swarm status [<swarm>] [--json]',
  summary:
    'queue depths per task type, findings, dead letters, shards and their context versions, durable subscribers, model spend and budget left, and consumers whose reads keep failing',
  options: {},
  async run(input) {
    return withBus(redisBus(input, 'status'), async (bus) => {
      const names = input.positionals.length > 0 ? input.positionals : await bus.swarms();
      if (names.length === 0) input.out.note('no swarms on this Redis');
      for (const name of names) {
        const s = await bus.status(name);
        // The swarm's and each llm pool's spend, as the ledger counts it across every process.
        const budgets = (await bus.ledger.budgets(name)).map(budgetSpend);
        input.out.result(formatStatus(s, budgets), { ...s, budgets });
      }
      return 0;
    });
  },
};
