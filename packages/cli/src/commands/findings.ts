import { assertName, type Finding, type FindingsFrom } from '@swarm/core';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

/** `--from` takes a stream id (resume after it), an ISO time or epoch ms, 'start' or 'now'. */
export function parseFrom(value: string | undefined): FindingsFrom {
  if (value === undefined || value === 'start' || value === 'now') return value ?? 'start';
  if (/^\d+-\d+$/.test(value)) return value;
  const time = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new UsageError(
      `--from must be a finding id (like 1700000000000-0), a time, 'start' or 'now': got ${value}`,
    );
  return time;
}

export function formatFinding(f: Finding): string {
  const context = f.contextVersion ? `  context ${f.contextVersion.slice(0, 12)}` : '';
  return `${f.id}  ${f.type}  task ${f.taskId}  worker ${f.workerId}  attempt ${f.attempt}${context}\n  ${f.summary}`;
}

export const findings: Command = {
  name: 'findings',
  usage: 'swarm findings <swarm> [--follow] [--from <id|time|start|now>] [--json]',
  summary: "print a swarm's findings; --follow keeps printing new ones",
  options: { follow: { type: 'boolean' }, from: { type: 'string' } },
  async run(input) {
    const [swarm] = input.positionals;
    if (!swarm) throw new UsageError('swarm findings needs <swarm>');
    assertName('swarm', swarm);
    const from = parseFrom(input.values.from as string | undefined);
    const print = (f: Finding) => input.out.result(formatFinding(f), { ...f });
    const bus = redisBus(input, 'findings', input.values.follow ? 'long-running' : 'one-shot');
    if (!input.values.follow) {
      return withBus(bus, async () => {
        const all = await readAll(bus, from);
        for (const f of all) print(f);
        if (all.length === 0) input.out.note(`no findings in swarm ${swarm}`);
        return 0;
      });
    }
    return withBus(
      bus,
      () =>
        new Promise<number>((resolve, reject) => {
          const subscription = bus.findings$(swarm, { from }).subscribe({ next: print, error: reject });
          const stop = () => {
            subscription.unsubscribe();
            resolve(0);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        }),
    );

    async function readAll(b: typeof bus, start: FindingsFrom): Promise<Finding[]> {
      const out: Finding[] = [];
      let after = typeof start === 'string' && /^\d+-\d+$/.test(start) ? start : undefined;
      const since = start instanceof Date ? start.getTime() : undefined;
      if (start === 'now') return out;
      for (;;) {
        const page = await b.readFindings(swarm as string, { after, count: 1_000 });
        out.push(...page.filter((f) => since === undefined || Number(f.id.split('-')[0]) >= since));
        if (page.length < 1_000) return out;
        after = page.at(-1)?.id;
      }
    }
  },
};
