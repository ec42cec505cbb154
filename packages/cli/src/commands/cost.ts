import { assertName, type Finding, type ModelCall } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';
import { msOfFinding } from '../time-span';
import { callsOf, countOf, formatTokens, formatUsd } from '../usage-format';
import { findingPages, parseFrom } from './findings';

const GROUPINGS = ['model', 'type', 'day'] as const;
type By = (typeof GROUPINGS)[number];

const TOKEN_FIELDS = [
  'inputTokens',
  'cachedInputTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
] as const;

interface Sums {
  findings: number;
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
}

const zero = (): Sums => ({
  findings: 0,
  calls: 0,
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  costUsd: 0,
});

function addCall(sums: Sums, call: Partial<ModelCall>): void {
  sums.calls++;
  for (const field of TOKEN_FIELDS) sums[field] += countOf(call[field]);
  sums.costUsd += countOf(call.costUsd);
}

/** The group a call counts under: its own model (a fallback or hedge loser is not the answering model's). */
function groupOf(by: By, finding: Finding, call: Partial<ModelCall>): string {
  if (by === 'type') return finding.type;
  // The stream id's time is when Redis took the finding in, the time `--from` filters on too.
  if (by === 'day') return new Date(msOfFinding(finding.id)).toISOString().slice(0, 10);
  return call.provider ? `${call.provider}:${String(call.model)}` : String(call.model);
}

/** Costs of a swarm's findings, by group: every call a finding's usage records counts once. */
class CostReport {
  readonly groups = new Map<string, Sums>();
  readonly total = zero();
  withoutUsage = 0;

  constructor(readonly by: By) {}

  add(finding: Finding): void {
    this.total.findings++;
    if (!finding.usage) {
      this.withoutUsage++;
      return;
    }
    const seen = new Set<string>();
    for (const call of callsOf(finding.usage)) {
      const group = groupOf(this.by, finding, call);
      const sums = this.groups.get(group) ?? zero();
      this.groups.set(group, sums);
      if (!seen.has(group)) sums.findings++;
      seen.add(group);
      addCall(sums, call);
      addCall(this.total, call);
    }
  }

  /** Days in order; models and types dearest first. */
  sorted(): [string, Sums][] {
    const entries = [...this.groups];
    return this.by === 'day'
      ? entries.sort(([a], [b]) => a.localeCompare(b))
      : entries.sort(([a, x], [b, y]) => y.costUsd - x.costUsd || a.localeCompare(b));
  }
}

// Sums of many fractions of a cent: 0.1 + 0.2 should print as 0.3 in --json.
const dollars = (usd: number) => Math.round(usd * 1e10) / 1e10;

function row(cells: [string, ...(string | number)[]], width: number): string {
  const [label, ...rest] = cells;
  return `  ${label.padEnd(width)}${rest.map((c) => String(c).padStart(10)).join('')}`;
}

function table(report: CostReport, swarm: string): string {
  const rows = report.sorted();
  const width = Math.max(24, ...rows.map(([g]) => g.length + 2));
  const line = (label: string, s: Sums) =>
    row(
      [
        label,
        s.findings,
        s.calls,
        formatTokens(s.inputTokens),
        formatTokens(s.cachedInputTokens),
        formatTokens(s.outputTokens),
        formatUsd(s.costUsd),
      ],
      width,
    );
  const t = report.total;
  const lines = [
    `swarm ${swarm}: ${formatUsd(t.costUsd)} over ${t.findings} finding(s), ${t.calls} model call(s)`,
    row([report.by, 'findings', 'calls', 'input', 'cached', 'output', 'cost'], width),
    ...rows.map(([group, sums]) => line(group, sums)),
    line('total', t),
  ];
  if (report.withoutUsage > 0)
    lines.push(`  ${report.withoutUsage} finding(s) without usage, counted as $0 (no model call made them)`);
  return lines.join('\n');
}

function parseBy(value: string | boolean | undefined): By {
  if (value === undefined) return 'model';
  const by = GROUPINGS.find((g) => g === value);
  if (!by) throw new UsageError(`--by must be one of ${GROUPINGS.join(', ')}: got ${String(value)}`);
  return by;
}

export const cost: Command = {
  name: 'cost',
  usage: 'swarm cost <swarm> [--by model|type|day] [--from <id|time>] [--json]',
  summary:
    "what a swarm's model calls cost, in dollars and tokens, by model (every call: retries, fallbacks, hedge losers), task type or UTC day",
  options: {
    by: {
      type: 'string',
      value: 'model|type|day',
      choices: ['model', 'type', 'day'],
      description: 'what to group the cost by',
      default: 'model',
    },
    from: {
      type: 'string',
      value: '<id|time|5m|2h|1d>',
      description: 'count findings from here: a finding id, a time, or how long ago',
      default: 'start',
    },
  },
  async run(input) {
    const [swarm, ...extra] = input.positionals;
    if (swarm === undefined || extra.length > 0) throw new UsageError(`usage: ${cost.usage}`);
    assertName('swarm', swarm);
    const by = parseBy(input.values.by);
    const from = parseFrom(input.values.from as string | undefined);
    return withBus(redisBus(input, 'cost'), async (bus) => {
      const report = new CostReport(by);
      for await (const page of findingPages(bus, swarm, from)) for (const f of page) report.add(f);
      if (!input.out.json) {
        input.out.result(table(report, swarm), {});
        return 0;
      }
      for (const [group, sums] of report.sorted())
        input.out.result('', { swarm, by, [by]: group, ...sums, costUsd: dollars(sums.costUsd) });
      const { total, withoutUsage } = report;
      input.out.result('', {
        swarm,
        by,
        total: true,
        ...total,
        costUsd: dollars(total.costUsd),
        findingsWithoutUsage: withoutUsage,
      });
      return 0;
    });
  },
};
