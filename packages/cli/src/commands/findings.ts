import {
  assertName,
  type Bus,
  type Finding,
  type FindingsFrom,
  splitSwarms,
  swarmMatcher,
} from '@swarm/core';
import { merge } from 'rxjs';
import { paint } from '../colour';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { printable } from '../printable';
import { redisBus, withBus } from '../require-redis';
import { missingSwarmHint } from '../swarm-hint';
import { msOfFinding, parseSpan, timeOfId } from '../time-span';
import { formatUsage } from '../usage-format';

/** `--from` takes a stream id (resume after it), an ISO time or epoch ms, a span ago (5m, 2h, 1d), 'start' or 'now'. */
export function parseFrom(value: string | undefined): FindingsFrom {
  if (value === undefined || value === 'start' || value === 'now') return value ?? 'start';
  if (/^\d+-\d+$/.test(value)) return value;
  const span = parseSpan(value);
  // A span reaching before the earliest Date is no time: it is refused below, not read as none.
  const ago = span === undefined ? undefined : new Date(Date.now() - span);
  if (ago !== undefined && !Number.isNaN(ago.getTime())) return ago;
  const time = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new UsageError(
      `--from must be a finding id (like 1700000000000-0), a time (ISO or epoch ms), a span ago (30s, 5m, 2h, 1d), 'start' or 'now': got ${value}`,
    );
  return time;
}

/**
 * A finding for people: when (from its stream id), its swarm when several are shown, its type,
 * task, worker and attempt, then its summary on the next line.
 */
export function formatFinding(f: Finding, options: { showSwarm?: boolean } = {}): string {
  const context = f.contextVersion ? `  context ${f.contextVersion.slice(0, 12)}` : '';
  const cost = f.usage ? `  ${formatUsage(f.usage)}` : '';
  const swarm = options.showSwarm ? `${paint.cyan(f.swarm)}  ` : '';
  return `${paint.dim(timeOfId(f.id))}  ${swarm}${paint.bold(f.type)}  task ${printable(f.taskId)}  worker ${printable(f.workerId)}  attempt ${f.attempt}${context}${cost}  ${paint.dim(`id ${f.id}`)}\n  ${printable(f.summary)}`;
}

/** Swarm names, and patterns (`*`, `?`) matched against the swarms Redis holds. */
export async function resolveSwarms(bus: Bus, args: string[]): Promise<string[]> {
  const { names, patterns } = splitSwarms(args);
  const matches = swarmMatcher(patterns);
  const matched = patterns.length > 0 ? (await bus.swarms()).filter(matches) : [];
  return [...new Set([...names, ...matched])];
}

const time = (id: string) => id.split('-').map(Number) as [number, number];
const byTime = (a: Finding, b: Finding) => {
  const [am, as] = time(a.id);
  const [bm, bs] = time(b.id);
  return am - bm || as - bs;
};

export const findings: Command = {
  name: 'findings',
  usage:
    'swarm findings <swarm|pattern>... [--follow [--subscriber <name>]] [--from <id|time|start|now>] [--tag <tag>]... [--json]',
  summary:
    "print findings of one or more swarms (or a pattern such as 'research-*'); --follow keeps printing; --subscriber makes it resume where it stopped",
  options: {
    follow: { type: 'boolean', description: 'keep printing findings as they arrive' },
    subscriber: {
      type: 'string',
      value: '<name>',
      description: 'a durable subscriber: resume where this name stopped (needs --follow)',
    },
    from: {
      type: 'string',
      value: '<id|time|5m|2h|1d|start|now>',
      description: 'where to start: after a finding id, at a time, a span ago',
      default: 'start',
    },
    tag: {
      type: 'string',
      multiple: true,
      value: '<tag>',
      description: 'only findings with this tag (repeatable)',
    },
  },
  async run(input) {
    if (input.positionals.length === 0)
      throw new UsageError('swarm findings needs at least one <swarm> or pattern');
    for (const arg of input.positionals) if (!/[*?]/.test(arg)) assertName('swarm', arg);
    const from = parseFrom(input.values.from as string | undefined);
    const tags = (input.values.tag as unknown as string[] | undefined) ?? [];
    const wanted = (f: Finding) => tags.length === 0 || f.tags.some((t) => tags.includes(t));
    // Several swarms (or a pattern) interleave: each line then says which swarm it is from.
    const showSwarm = input.positionals.length > 1 || input.positionals.some((a) => /[*?]/.test(a));
    const print = (f: Finding) => {
      if (wanted(f)) input.out.result(formatFinding(f, { showSwarm }), { ...f });
    };
    const subscriber = input.values.subscriber as string | undefined;
    if (subscriber !== undefined) {
      if (!input.values.follow) throw new UsageError('--subscriber needs --follow');
      assertName('consumer', subscriber);
      if (typeof from === 'string' && from !== 'start' && from !== 'now')
        throw new UsageError(
          '--subscriber starts a new subscriber at start, now or a time; an id is not allowed',
        );
    }
    const bus = redisBus(input, 'findings', input.values.follow ? 'long-running' : 'one-shot');
    if (subscriber !== undefined)
      // Durable: the cursor per source swarm is stored under the name, so a restarted
      // `--subscriber` picks up after the last finding it printed, with nothing missed or repeated.
      return withBus(
        bus,
        () =>
          new Promise<number>((resolve, reject) => {
            const subscription = bus
              .follow({
                swarms: input.positionals,
                name: subscriber,
                from: from as 'start' | 'now' | Date,
                ...(tags.length > 0 ? { tags } : {}),
              })
              .subscribe({ next: print, error: reject });
            const stop = () => {
              subscription.unsubscribe();
              resolve(0);
            };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          }),
      );
    return withBus(bus, async () => {
      const swarms = await resolveSwarms(bus, input.positionals);
      const known = await bus.swarms();
      for (const name of splitSwarms(input.positionals).names) {
        const hint = await missingSwarmHint(bus, name, known);
        if (hint) input.out.note(input.values.follow ? `${hint}; waiting for its first finding` : hint);
      }
      if (swarms.length === 0) {
        input.out.note(`no swarm matches ${input.positionals.join(' ')}`);
        if (!input.values.follow) return 0;
      }
      if (!input.values.follow) {
        const all = (await Promise.all(swarms.map((s) => readAll(bus, s, from)))).flat().sort(byTime);
        const shown = all.filter(wanted);
        for (const f of shown) print(f);
        if (shown.length === 0) input.out.note(`no findings in ${swarms.join(', ')}`);
        return 0;
      }
      return new Promise<number>((resolve, reject) => {
        const subscription = merge(...swarms.map((s) => bus.findings$(s, { from }))).subscribe({
          next: print,
          error: reject,
        });
        const stop = () => {
          subscription.unsubscribe();
          resolve(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  },
};

async function readAll(bus: Bus, swarm: string, start: FindingsFrom): Promise<Finding[]> {
  const out: Finding[] = [];
  for await (const page of findingPages(bus, swarm, start)) out.push(...page);
  return out;
}

/** One swarm's findings from `start`, a page at a time, oldest first (`swarm cost` sums them as they come). */
export async function* findingPages(bus: Bus, swarm: string, start: FindingsFrom): AsyncGenerator<Finding[]> {
  let after = typeof start === 'string' && /^\d+-\d+$/.test(start) ? start : undefined;
  const since = start instanceof Date ? start.getTime() : undefined;
  if (start === 'now') return;
  for (;;) {
    const page = await bus.readFindings(swarm, { after, count: 1_000 });
    yield page.filter((f) => since === undefined || msOfFinding(f.id) >= since);
    if (page.length < 1_000) return;
    after = page.at(-1)?.id;
  }
}
