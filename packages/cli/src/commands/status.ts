import { type BudgetSpend, budgetSpend, type SwarmStatus } from '@swarm/core';
import { paint } from '../colour';
import type { Command } from '../command';
import { redisBus, withBus } from '../require-redis';
import { missingSwarmHint } from '../swarm-hint';
import { formatTokens, formatUsd } from '../usage-format';

function ageOf(ms: number): string {
  if (ms === 0) return '-';
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

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

/** One line per swarm, for `swarm status` with no swarm named: totals over its task types. */
export function formatSummary(s: SwarmStatus, budgets: readonly BudgetSpend[], width: number): string {
  const sum = (key: 'waiting' | 'inFlight' | 'delayed' | 'consumers') =>
    s.types.reduce((total, t) => total + t[key], 0);
  const oldest = Math.max(0, ...s.types.map((t) => t.oldestAgeMs));
  const spent = budgets.find((b) => b.name === s.swarm)?.spentUsd ?? 0;
  const behind = s.subscribers.filter((sub) => sub.cursor !== s.lastFinding).length;
  const parts = [
    `waiting ${sum('waiting')}`,
    `in flight ${sum('inFlight')}`,
    `delayed ${sum('delayed')}`,
    `consumers ${sum('consumers')}`,
    `oldest ${ageOf(oldest)}`,
    `findings ${s.findings}`,
    s.deadLetters > 0 ? paint.red(`dead letters ${s.deadLetters}`) : 'dead letters 0',
    `subscribers ${s.subscribers.length}${behind > 0 ? ` (${behind} behind)` : ''}`,
    ...(spent > 0 ? [`spent ${formatUsd(spent)}`] : []),
    ...(s.errors.length > 0 ? [paint.red(`${s.errors.length} failing`)] : []),
  ];
  return `${paint.bold(s.swarm.padEnd(width))}  ${parts.join('  ')}`;
}

export const status: Command = {
  name: 'status',
  usage: 'swarm status [<swarm>...] [--json]',
  summary:
    'with no swarm, one line per swarm; for a swarm: queue depths per task type, findings, dead letters, shards and their context versions, durable subscribers, model spend and budget left, and consumers whose reads keep failing',
  options: {},
  async run(input) {
    return withBus(redisBus(input, 'status'), async (bus) => {
      const all = await bus.swarms();
      const named = input.positionals.length > 0;
      const names = named ? input.positionals : all;
      if (names.length === 0) input.out.note('no swarms on this Redis');
      const width = Math.max(0, ...names.map((n) => n.length));
      for (const name of names) {
        const hint = named ? await missingSwarmHint(bus, name, all) : undefined;
        if (hint) input.out.note(hint);
        let s: SwarmStatus;
        let budgets: BudgetSpend[];
        try {
          s = await bus.status(name);
          // The swarm's and each llm pool's spend, as the ledger counts it across every process.
          budgets = (await bus.ledger.budgets(name)).map(budgetSpend);
        } catch (error) {
          // A user of one swarm (swarm acl) sees every swarm's name (SCAN is not filtered by key
          // pattern) but may read only its own: listing all, skip the others with a note.
          if (named || !/NOPERM/.test(String(error))) throw error;
          input.out.note(`${name}: not readable with these credentials`);
          continue;
        }
        const human = named ? formatStatus(s, budgets) : formatSummary(s, budgets, width);
        input.out.result(human, { ...s, budgets });
      }
      return 0;
    });
  },
};
