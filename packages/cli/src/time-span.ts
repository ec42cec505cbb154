import { splitPartitionedId } from '@swarm/core';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `5m`, `2h`, `1d` as milliseconds; undefined when the text is not a span. */
export function parseSpan(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** A stream id's time part (`1700000000000-3` → that millisecond) as an ISO time. */
export function timeOfId(id: string): string {
  // A partition's id is `p:<stream id>` (docs/PROTOCOL.md, Partitions).
  const ms = Number((splitPartitionedId(id)?.id ?? id).split('-')[0]);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : id;
}

/** When a finding was written, from its id (`<ms>-<seq>`, or `p:<ms>-<seq>` in partition p). */
export function msOfFinding(id: string): number {
  return Number((splitPartitionedId(id)?.id ?? id).split('-')[0]);
}
