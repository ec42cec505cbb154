import { type Finding, RedisBus } from '@swarm/core';
import { describe, expect, it } from 'vitest';
import { type CliProcess, jsonLines, startSwarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * A durable subscriber as a real OS process (`swarm findings --follow --subscriber`), stopped and
 * restarted while 10,000 findings are published into two swarms: what it prints across its lives
 * must be every finding, once, in order per swarm.
 */
describe('durable subscriber across restarts (real processes, real Redis)', () => {
  const redis = useRedisServer();

  const TOTAL = 10_000;
  let SOURCES = ['feed-a', 'feed-b'];

  function subscriber(name: string): CliProcess {
    return startSwarmCli(['findings', ...SOURCES, '--follow', '--subscriber', name, '--json'], {
      env: { SWARM_REDIS_URL: redis.url },
    });
  }

  /** Complete lines only: a process killed mid-write leaves half a line. */
  const lines = (proc: CliProcess) =>
    jsonLines<Finding>(proc.stdout.slice(0, proc.stdout.lastIndexOf('\n') + 1));

  /** A subscriber process starts, catches up and prints 10,000 findings while being restarted. */
  const CATCHING_UP = { limitMs: 120_000 };

  /** Publishes `count` findings alternating between the sources, 50 at a time, about 2,000/s. */
  async function publish(bus: RedisBus, from: number, count: number) {
    for (let i = from; i < from + count; i += 50) {
      await new Promise((r) => setTimeout(r, 25));
      await Promise.all(
        Array.from({ length: Math.min(50, from + count - i) }, (_, k) =>
          bus.publish(SOURCES[(i + k) % 2] as string, { type: 'note', summary: `n${i + k}` }),
        ),
      );
    }
  }

  function check(received: Finding[], stored: Map<string, string[]>) {
    const seen = new Map<string, string[]>(SOURCES.map((s) => [s, []]));
    for (const f of received) seen.get(f.swarm)?.push(f.id);
    const duplicates = received.length - new Set(received.map((f) => `${f.swarm}/${f.id}`)).size;
    const gaps = SOURCES.reduce((n, s) => {
      const got = new Set(seen.get(s));
      return n + (stored.get(s) ?? []).filter((id) => !got.has(id)).length;
    }, 0);
    return { duplicates, gaps, seen };
  }

  async function storedIds(bus: RedisBus): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const s of SOURCES) {
      const ids: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await bus.readFindings(s, { after, count: 1_000 });
        ids.push(...page.map((f) => f.id));
        if (page.length < 1_000) break;
        after = page.at(-1)?.id;
      }
      out.set(s, ids);
    }
    return out;
  }

  it('catches up after SIGTERM restarts with zero gaps and zero duplicates across 10,000 findings', async () => {
    const bus = new RedisBus({ url: redis.url });
    const lives: CliProcess[] = [];
    const received = () => lives.flatMap(lines);
    try {
      // Life 1 starts before anything exists, takes part of the stream, and is stopped mid-flow.
      lives.push(subscriber('audit'));
      const publishing = publish(bus, 0, TOTAL);
      await until(
        () => received().length >= 2_000,
        () => `2,000 findings (${received().length})`,
        CATCHING_UP,
      );
      lives[0]?.child.kill('SIGTERM');
      expect(await lives[0]?.exited).toBe(0);
      // Life 2 resumes while publishing goes on, and is stopped again.
      lives.push(subscriber('audit'));
      const life2 = lives[1] as CliProcess;
      await until(
        () => lines(life2).length >= 500,
        () => `500 findings in life 2 (${lines(life2).length})`,
        CATCHING_UP,
      );
      lives[1]?.child.kill('SIGTERM');
      expect(await lives[1]?.exited).toBe(0);
      await publishing;
      // Life 3 starts after the last publish: it only has catching up to do.
      lives.push(subscriber('audit'));
      await until(
        () => received().length >= TOTAL,
        () => `all findings (${received().length})`,
        CATCHING_UP,
      );
      await new Promise((r) => setTimeout(r, 500));
      lives[2]?.child.kill('SIGTERM');
      expect(await lives[2]?.exited).toBe(0);

      const stored = await storedIds(bus);
      expect([...stored.values()].flat()).toHaveLength(TOTAL);
      const { duplicates, gaps, seen } = check(received(), stored);
      expect({ duplicates, gaps, received: received().length }).toEqual({
        duplicates: 0,
        gaps: 0,
        received: TOTAL,
      });
      // In order per source swarm, across all three lives.
      for (const s of SOURCES) expect(seen.get(s)).toEqual(stored.get(s));
      expect(lives.every((l) => lines(l).length > 0)).toBe(true);
    } finally {
      for (const l of lives) l.child.kill('SIGKILL');
      await bus.close();
    }
  }, 240_000);

  it('after a SIGKILL, resumes with zero gaps; repeats are at most what it printed since its last stored cursor', async () => {
    const bus = new RedisBus({ url: redis.url });
    const lives: CliProcess[] = [];
    const received = () => lives.flatMap(lines);
    const name = 'crashy';
    SOURCES = ['crash-a', 'crash-b'];
    try {
      lives.push(subscriber(name));
      const publishing = publish(bus, 0, 4_000);
      await until(
        () => received().length >= 1_000,
        () => `1,000 findings (${received().length})`,
        CATCHING_UP,
      );
      lives[0]?.child.kill('SIGKILL');
      await lives[0]?.exited;
      const printedBeforeKill = received().length;
      lives.push(subscriber(name));
      await publishing;
      const stored = await storedIds(bus);
      const total = [...stored.values()].flat().length;
      await until(
        () => check(received(), stored).gaps === 0,
        () => `no gaps (${check(received(), stored).gaps} missing)`,
        CATCHING_UP,
      );
      const { duplicates, gaps } = check(received(), stored);
      expect(gaps).toBe(0);
      // Only findings the first life printed can come again.
      expect(duplicates).toBeLessThanOrEqual(printedBeforeKill);
      const second = lines(lives[1] as CliProcess);
      // Ids are per stream: two swarms can both have a finding 1795…-0.
      const firstIds = new Set(lines(lives[0] as CliProcess).map((f) => `${f.swarm}/${f.id}`));
      const repeated = second.filter((f) => firstIds.has(`${f.swarm}/${f.id}`));
      expect(repeated).toHaveLength(duplicates);
      console.log(`SIGKILL restart: ${total} findings, ${duplicates} repeated after the kill, 0 gaps`);
    } finally {
      for (const l of lives) l.child.kill('SIGKILL');
      await bus.close();
    }
  }, 240_000);
});
