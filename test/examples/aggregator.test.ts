import { ActorConfigError } from '@swarm/core';
import { ActorTestKit } from '@swarm/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import aggregator from '../../config/examples/actors/aggregator';

/** The aggregator example, run on the test kit: MemoryBus and a ManualClock, so nothing sleeps. */
describe('aggregator actor (config/examples/actors/aggregator.ts)', () => {
  let kit: ActorTestKit | undefined;
  afterEach(async () => {
    await kit?.stop();
    kit = undefined;
  });

  const start = (
    config: Record<string, unknown> = {},
    subscribe: { swarms: string[]; discoverEveryMs?: number }[] = [
      { swarms: ['research-*'], discoverEveryMs: 100 },
    ],
  ) => ActorTestKit.start(aggregator, { swarm: 'ops', name: 'digest', config, subscribe });

  it('publishes one summary per window with counts by swarm, type and tag', async () => {
    kit = await start({ everyMs: 1_000 });
    await kit.finding('research-a', { type: 'scan', summary: 'open port', tags: ['risk'] });
    await kit.finding('research-a', { type: 'scan', summary: 'tls ok' });
    await kit.finding('research-b', { type: 'review', summary: 'sql injection', tags: ['risk', 'auth'] });
    await kit.finding('elsewhere', { type: 'scan', summary: 'not followed' });
    expect(kit.published).toHaveLength(0);
    await kit.advance(1_000);
    expect(kit.published).toHaveLength(1);
    const [summary] = kit.published;
    expect(summary).toMatchObject({ swarm: 'ops', type: 'summary', workerId: 'digest', tags: ['summary'] });
    expect(summary?.summary).toBe('3 finding(s) from research-a, research-b');
    expect(summary?.data).toMatchObject({
      count: 3,
      bySwarm: { 'research-a': 2, 'research-b': 1 },
      byType: { scan: 2, review: 1 },
      byTag: { risk: 2, auth: 1 },
    });
    // It lands in the ops swarm's stream like any other finding.
    expect((await kit.bus.readFindings('ops')).map((f) => f.id)).toEqual([summary?.id]);
  });

  it('skips empty windows unless told not to', async () => {
    kit = await start({ everyMs: 500 });
    await kit.advance(2_000);
    expect(kit.published).toHaveLength(0);
    await kit.stop();
    kit = await start({ everyMs: 500, skipEmpty: false });
    await kit.advance(1_000);
    expect(kit.published.map((f) => f.data)).toMatchObject([{ count: 0 }, { count: 0 }]);
  });

  it('publishes what it holds when stopped', async () => {
    kit = await start({ everyMs: 60_000 });
    await kit.finding('research-a', { type: 'scan', summary: 'late' });
    await kit.actor.stop();
    expect(kit.published).toHaveLength(1);
    expect(kit.published[0]?.data).toMatchObject({ count: 1 });
  });

  it('never summarises its own summaries when it follows its own swarm', async () => {
    kit = await start({ everyMs: 1_000 }, [{ swarms: ['ops'] }]);
    await kit.finding('ops', { type: 'alert', summary: 'disk full' });
    await kit.advance(1_000);
    await kit.advance(1_000);
    await kit.advance(1_000);
    expect(kit.published).toHaveLength(1);
    expect(kit.published[0]?.data).toMatchObject({ count: 1 });
  });

  it('resumes after a restart without counting a finding twice', async () => {
    kit = await start({ everyMs: 1_000 });
    await kit.finding('research-a', { type: 'scan', summary: 'one' });
    await kit.advance(1_000);
    await kit.restart();
    await kit.finding('research-a', { type: 'scan', summary: 'two' });
    await kit.advance(1_000);
    const counted = kit.published.flatMap((f) => (f.data as { findings: { summary: string }[] }).findings);
    expect(counted.map((f) => f.summary)).toEqual(['one', 'two']);
  });

  it('refuses a config its schema rejects, naming the key', async () => {
    const failure = await start({ everyMs: -5, colour: 'red' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ActorConfigError);
    expect((failure as ActorConfigError).code).toBe('SWARM_ACTOR_CONFIG');
    expect((failure as ActorConfigError).issues.map((i) => i.path.join('.')).sort()).toEqual([
      'colour',
      'everyMs',
    ]);
    expect(String((failure as Error).message)).toMatch(
      /colour: unknown key "colour" \(expected one of: everyMs, skipEmpty, type\)/,
    );
  });
});
