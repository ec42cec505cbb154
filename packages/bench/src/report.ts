import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './benchmark';
import type { Machine } from './machine';

/** One measured figure; also the shape of each --json line. */
export interface Row {
  bench: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function renderTable(title: string, result: BenchResult): string {
  const header = ['system', 'metric', 'value', 'unit'];
  const cells = result.rows.map((r) => [r.system, r.metric, formatValue(r.value), r.unit]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [
    title,
    ...result.notes.map((n) => `  ${n}`),
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}

export function jsonLines(result: BenchResult): string {
  return result.rows
    .map((r) =>
      JSON.stringify({ bench: r.bench, system: r.system, metric: r.metric, value: r.value, unit: r.unit }),
    )
    .join('\n');
}

/** Writes results/<bench>-<timestamp>.json with every row, the flags and the machine; returns its path. */
export async function writeResultsFile(
  bench: string,
  flags: Record<string, number | string>,
  result: BenchResult,
  machine: Machine,
): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = machine.date.replace(/[:.]/g, '-');
  const path = join(RESULTS_DIR, `${bench}-${stamp}.json`);
  const body = { bench, flags, machine, notes: result.notes, rows: result.rows };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}
