import { type Bus, compareIds, type Finding, isSwarmPattern } from '@swarm/core';
import { z } from 'zod';
import { findingSchema, loose } from '../schemas';
import { defineTool } from '../tool';

const PAGE = 1_000;
/** Entries one call reads per swarm looking for tagged findings; past it the call returns a cursor. */
const SCAN_BUDGET = 10_000;
const ID = /^\d+-\d+$/;
const CURSOR = /^[A-Za-z0-9][A-Za-z0-9_.-]*:\d+-\d+(,[A-Za-z0-9][A-Za-z0-9_.-]*:\d+-\d+)*$/;

interface SwarmScan {
  swarm: string;
  found: Finding[];
  /** The last id read, matching or not. */
  lastRead: string | undefined;
  exhausted: boolean;
}

/** Findings after `after`, up to `limit` that pass `wanted`, reading at most SCAN_BUDGET entries. */
async function scan(
  bus: Bus,
  swarm: string,
  after: string | undefined,
  limit: number,
  wanted: (f: Finding) => boolean,
): Promise<SwarmScan> {
  const found: Finding[] = [];
  let lastRead = after;
  for (let read = 0; read < SCAN_BUDGET; read += PAGE) {
    const page = await bus.readFindings(swarm, { after: lastRead, count: PAGE });
    for (const finding of page) {
      lastRead = finding.id;
      if (!wanted(finding)) continue;
      found.push(finding);
      if (found.length === limit) return { swarm, found, lastRead, exhausted: false };
    }
    if (page.length < PAGE) return { swarm, found, lastRead, exhausted: true };
  }
  return { swarm, found, lastRead, exhausted: false };
}

/**
 * Where each swarm's reading starts: a finding id applies to every swarm; a cursor (a `next`)
 * names one id per swarm, since two swarms' streams can hold the same id.
 */
function startsOf(after: string | undefined): (swarm: string) => string | undefined {
  if (after === undefined || ID.test(after)) return () => after;
  const ids = new Map(after.split(',').map((part) => part.split(':') as [string, string]));
  return (swarm) => ids.get(swarm);
}

export const listFindings = defineTool({
  name: 'list_findings',
  title: 'List findings',
  description:
    "Stored findings of a swarm, or of every swarm a pattern such as 'research-*' matches, oldest first. Read on with after = the previous call's `next`; filter with tags (any of them).",
  annotations: { readOnlyHint: true },
  input: z.strictObject({
    swarm: z.string().min(1).describe("a swarm name, or a pattern with * and ? such as 'research-*'"),
    after: z
      .string()
      .refine(
        (v) => ID.test(v) || CURSOR.test(v),
        'must be a finding id (1700000000000-0) or a `next` cursor',
      )
      .optional()
      .describe('only findings after this finding id, or after a previous call’s next'),
    tags: z.array(z.string().min(1)).optional().describe('only findings with any of these tags'),
    limit: z.number().int().min(1).max(PAGE).optional().describe('most findings to return (default 50)'),
  }),
  output: z.object({
    swarms: z.array(z.string()).describe('the swarms read'),
    findings: z.array(findingSchema),
    more: z.boolean().describe('true when a next page may hold findings'),
    next: z
      .string()
      .nullable()
      .describe('pass as after to read on: now while more is true, or later for newer findings'),
  }),
  async run({ swarm, after, tags = [], limit = 50 }, { bus, allowed }) {
    let swarms: string[];
    if (isSwarmPattern(swarm)) swarms = allowed.resolvePattern(swarm, await bus.swarms());
    else {
      allowed.assert(swarm);
      swarms = [swarm];
    }
    const startOf = startsOf(after);
    const wanted = (f: Finding) => tags.length === 0 || f.tags.some((t) => tags.includes(t));
    const scans = await Promise.all(swarms.map((s) => scan(bus, s, startOf(s), limit, wanted)));
    const merged = scans
      .flatMap((s) => s.found)
      .sort((a, b) => compareIds(a.id, b.id) || (a.swarm < b.swarm ? -1 : 1));
    const findings = merged.slice(0, limit);
    const returned = new Set(findings);
    // Each swarm resumes after the last finding it returned, or after all it read when none was held back.
    const cursors = scans.map((s) => {
      const held = s.found.some((f) => !returned.has(f));
      const at = held
        ? ([...s.found].reverse().find((f) => returned.has(f))?.id ?? startOf(s.swarm))
        : s.lastRead;
      return { swarm: s.swarm, at, done: s.exhausted && !held };
    });
    const known = cursors.filter((c) => c.at !== undefined);
    // A pattern's cursor names its swarms even when it matched one: it may match more later.
    const next =
      known.length === 0
        ? null
        : isSwarmPattern(swarm)
          ? known.map((c) => `${c.swarm}:${c.at}`).join(',')
          : (known[0]?.at as string);
    return { swarms, findings: findings.map(loose), more: cursors.some((c) => !c.done), next };
  },
});
