import type { SwarmStatus } from '@swarm/core';
import type { Command } from '../command';
import { redisBus, withBus } from '../require-redis';

function ageOf(ms: number): string {
  if (ms === 0) return '-';
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

export function formatStatus(s: SwarmStatus): string {
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
  return lines.join('\n');
}

export const status: Command = {
  name: 'status',
  usage: 'swarm status [<swarm>] [--json]',
  summary:
    'queue depths per task type, findings, dead letters, shards and their context versions, durable subscribers',
  options: {},
  async run(input) {
    return withBus(redisBus(input, 'status'), async (bus) => {
      const names = input.positionals.length > 0 ? input.positionals : await bus.swarms();
      if (names.length === 0) input.out.note('no swarms on this Redis');
      for (const name of names) {
        const s = await bus.status(name);
        input.out.result(formatStatus(s), { ...s });
      }
      return 0;
    });
  },
};
