import { ActorConfigError } from '@swarm/core';
import { ActorTestKit } from '@swarm/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import keywordAlert from '../../config/examples/actors/_scratch';
import { shouter } from '../../config/examples/actors/_scratch2';

describe('keyword-alert actor', () => {
  let kit: ActorTestKit | undefined;
  afterEach(async () => {
    await kit?.stop();
    kit = undefined;
  });

  const start = (config: Record<string, unknown> = { keyword: 'timeout' }) =>
    ActorTestKit.start(keywordAlert, {
      swarm: 'ops',
      name: 'alerts',
      config,
      subscribe: [{ swarms: ['research-*'], discoverEveryMs: 100 }],
    });

  it('publishes an alert for each followed finding that mentions the keyword', async () => {
    kit = await start();
    await kit.finding('research-a', { type: 'scan', summary: 'Timeout talking to the DB' });
    await kit.finding('research-a', { type: 'scan', summary: 'all good' });
    await kit.finding('elsewhere', { type: 'scan', summary: 'timeout, but not followed' });
    await kit.advance(100); // the pattern is matched again every discoverEveryMs
    expect(kit.published).toHaveLength(1);
    expect(kit.published[0]).toMatchObject({
      swarm: 'ops',
      type: 'alert',
      workerId: 'alerts',
      tags: ['alert'],
      summary: 'research-a: Timeout talking to the DB',
    });
  });

  it('resumes after a restart without alerting twice', async () => {
    kit = await start();
    await kit.finding('research-a', { type: 'scan', summary: 'timeout one' });
    await kit.advance(100);
    await kit.restart();
    await kit.finding('research-a', { type: 'scan', summary: 'timeout two' });
    await kit.advance(100);
    expect(kit.published.map((f) => f.summary)).toEqual([
      'research-a: timeout one',
      'research-a: timeout two',
    ]);
  });

  it('refuses a config without a keyword', async () => {
    const failure = await start({ keywrd: 'timeout' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ActorConfigError);
    expect((failure as ActorConfigError).issues.map((i) => i.path.join('.'))).toEqual(['keyword', 'keywrd']);
    console.log((failure as Error).message);
  });
});

describe('shouter actor', () => {
  let kit: ActorTestKit | undefined;
  afterEach(async () => {
    await kit?.stop();
    kit = undefined;
  });

  it('completes tasks with a finding and dead-letters empty ones', async () => {
    kit = await ActorTestKit.start(shouter, { swarm: 'loud' });
    const posted = await kit.task('shout', { description: 'hello' });
    await kit.task('shout', { description: '' });
    await kit.settle();
    const findings = await kit.bus.readFindings('loud');
    console.log(findings);
    expect(findings).toMatchObject([
      { taskId: posted.id, type: 'shout', summary: 'HELLO', data: { length: 5 } },
    ]);
    const dead = await kit.bus.deadLetters('loud');
    console.log(dead);
    expect(dead).toHaveLength(1);
    expect(kit.published).toEqual([]);
  });
});

import pager from '../../config/examples/actors/_scratch3';
import { review } from '../../config/examples/handlers/_scratch-review';

describe('pager', () => {
  it('follows under swarm.name.key', async () => {
    void review;
    const kit = await ActorTestKit.start(pager, {
      swarm: 'ops',
      name: 'pager',
      config: { swarms: ['research', 'ops'] },
    });
    await kit.finding('research', { type: 'scan', summary: 'db down', tags: ['page'] });
    await kit.finding('research', { type: 'scan', summary: 'meh' });
    await kit.advance(1000);
    console.log(kit.posted, await kit.bus.cursors('research'));
    await kit.stop();
    console.log(await kit.bus.cursors('research').catch(String));
  });
  it('own completions are not filtered', async () => {
    const kit = await ActorTestKit.start(shouter, {
      swarm: 'ops',
      name: 'sh',
      subscribe: [{ swarms: ['ops'] }],
    });
    await kit.task('shout', { description: 'x' });
    await kit.settle();
    console.log(await kit.bus.readFindings('ops'));
    await kit.stop();
  });
});
