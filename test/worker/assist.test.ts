import { type Finding, RedisBus } from '@swarm/core';
import { ASSIST_REQUEST_TYPE, ASSIST_TYPE } from '@swarm/worker';
import { describe, expect, it } from 'vitest';
import { startSwarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { FIXTURES, poolSpec, until, usePools } from './helpers';

const handler = (name: string) => ({ module: 'handlers/assist.mjs', export: name });

/** Peer assist on a real Redis: ctx.askPeers, `assist: true` pools, deadlines and timeouts. */
describe('peer assist', () => {
  const redis = useRedisServer();
  const rig = usePools(() => new RedisBus({ url: redis.url }));

  const ofType = async (type: string) => (await rig.findings()).filter((f) => f.type === type);

  it('a concurrency-1 pool whose only worker asks for help finishes when another pool assists', async () => {
    const asking = rig.start(
      poolSpec({ type: 'research', handler: handler('asker'), concurrency: 1, assist: true }),
    );
    rig.start(poolSpec({ type: 'review', handler: handler('helper'), concurrency: 1, assist: true }));
    const posted = await rig.bus.post(rig.swarm, 'research', {
      description: 'the auth module',
      data: { n: 7 },
    });
    await until(async () => (await ofType('research')).length === 1, 'the asking task to finish');

    const [done] = await ofType('research');
    expect(done?.summary).toBe('solved with help: helped with: stuck on the auth module');
    const [request] = await ofType(ASSIST_REQUEST_TYPE);
    const [answer] = await ofType(ASSIST_TYPE);
    // Both the request and the answer trace back to the asking task.
    expect(request).toMatchObject({ parent: posted.id, tags: ['assist', 'request'] });
    // The request names the worker that asked: the one that recorded the asking task's finding.
    expect(request?.workerId).toBe(done?.workerId);
    expect(answer).toMatchObject({ parent: posted.id, summary: 'helped with: stuck on the auth module' });
    expect(answer?.tags).toEqual(['assist', 'answer']);
    expect(answer?.data).toEqual({ saw: { n: 7 } });
    expect((request?.data as { request?: string } | undefined)?.request).toBe(answer?.taskId);
    expect(done?.data).toMatchObject({ answer: answer?.id, helper: answer?.workerId });
    // The asking pool held its only slot the whole time, so it never took the request itself.
    expect(asking.stats.completed).toBe(1);
    expect(await rig.deadLetters()).toEqual([]);
  });

  it('is answered by another process: a `swarm worker --assist` CLI worker', async () => {
    rig.start(poolSpec({ type: 'research', handler: handler('asker'), concurrency: 1, assist: true }));
    const helper = startSwarmCli(
      ['worker', rig.swarm, 'review', '--assist', '--handler', `${FIXTURES}/handlers/assist.mjs#helper`],
      { env: { SWARM_REDIS_URL: redis.url } },
    );
    try {
      await rig.bus.post(rig.swarm, 'research', {
        description: 'the billing module',
        data: { timeoutMs: 30_000 },
      });
      await until(
        async () => (await ofType('research')).length === 1,
        () => `the asking task; helper said ${helper.stderr}`,
        30_000,
      );
      const [done] = await ofType('research');
      expect(done?.summary).toBe('solved with help: helped with: stuck on the billing module');
    } finally {
      helper.child.kill('SIGTERM');
      await helper.exited;
    }
  });

  it('times out with a typed error when no peer can help, and the late request expires unrun', async () => {
    rig.start(poolSpec({ type: 'research', handler: handler('asker'), concurrency: 1, assist: true }));
    const posted = await rig.bus.post(rig.swarm, 'research', {
      description: 'alone',
      data: { timeoutMs: 300 },
    });
    await until(async () => (await ofType('research')).length === 1, 'the asking task to give up');
    const [done] = await ofType('research');
    expect(done?.summary).toMatch(/^escalated: no peer answered help request \S+ within 300 ms$/);
    expect(done?.tags).toEqual(['escalated']);
    // Once its slot is free the pool claims its own stale request and records it as expired,
    // without running the handler on it.
    await until(async () => (await ofType(ASSIST_TYPE)).length === 1, 'the expired request');
    const [expired] = await ofType(ASSIST_TYPE);
    expect(expired).toMatchObject({ parent: posted.id, tags: ['expired', 'assist', 'answer'] });
    expect(expired?.summary).toMatch(/^expired/);
    expect(await rig.deadLetters()).toEqual([]);
  });

  it('hands each request to one helper, once', async () => {
    rig.start(poolSpec({ type: 'research', handler: handler('asker'), concurrency: 4, assist: false }));
    for (const type of ['a', 'b', 'c'])
      rig.start(poolSpec({ type, handler: handler('helper'), concurrency: 2, assist: true }));
    await rig.bus.postBatch(
      rig.swarm,
      'research',
      Array.from({ length: 20 }, (_, i) => ({ description: `q${i}` })),
    );
    await until(async () => (await ofType('research')).length === 20, 'all 20 asking tasks', 30_000);
    const answers: Finding[] = await ofType(ASSIST_TYPE);
    expect(answers).toHaveLength(20);
    expect(new Set(answers.map((a) => a.taskId)).size).toBe(20);
    expect((await ofType('research')).every((f) => f.summary.startsWith('solved with help'))).toBe(true);
  });
});
