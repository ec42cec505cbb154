import type { ModelCall, Usage } from '@swarm/core';

/**
 * A finding's usage is checked off the wire only for being an object (a worker in another
 * language may write it), so every number is read as a count that may be missing.
 */
export const countOf = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;

/** The calls a usage records; a usage without any stands for one call, its own. */
export function callsOf(usage: Usage): Partial<ModelCall>[] {
  return Array.isArray(usage.calls) && usage.calls.length > 0 ? usage.calls : [usage];
}

/** Dollars: four decimals below a dollar (a call costs fractions of a cent), two above. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(usd >= 0.0001 ? 4 : 6)}`;
}

/** 80, 1.2k, 3.4M. */
export function formatTokens(tokens: number): string {
  if (tokens < 1_000) return String(tokens);
  const [value, unit] = tokens < 1_000_000 ? [tokens / 1_000, 'k'] : [tokens / 1_000_000, 'M'];
  return `${value.toFixed(value < 10 ? 1 : 0).replace(/\.0$/, '')}${unit}`;
}

/** `$0.0012 (claude-haiku-4-5, 1.2k in / 80 out)`, with the calls when the task took more than one. */
export function formatUsage(usage: Usage): string {
  const calls = Array.isArray(usage.calls) ? usage.calls.length : 0;
  const tokens = `${formatTokens(countOf(usage.inputTokens))} in / ${formatTokens(countOf(usage.outputTokens))} out`;
  return `${formatUsd(countOf(usage.costUsd))} (${String(usage.model)}, ${tokens}${calls > 1 ? `, ${calls} calls` : ''})`;
}
