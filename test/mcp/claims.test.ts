import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { call, callError, connectStdio, type StdioSwarm } from './support';

interface Claimed {
  outcome: 'claimed' | 'no-task';
  claim: string;
  task: { id: string; description: string; data: unknown; attempt: number; context?: string };
  context: { ref: string; bytes: number; lines: number } | null;
  leaseMs: number;
  expiresAt: number;
}

interface Page {
  text: string;
  more: boolean;
  next: { offset?: number; line?: number } | null;
}

describe('swarm mcp claims: claim_task, report_finding, fail_task, renew_lease', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let mcp: StdioSwarm;
  let swarmCount = 0;
  const nextSwarm = () => `claims-${++swarmCount}`;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    mcp = await connectStdio(['--swarm', 'claims-*'], { SWARM_REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await mcp?.close();
    await bus?.close();
  });

  it('posts, claims, pages the context, reports once, and the finding is listed', async () => {
    const swarm = nextSwarm();
    const context = Array.from({ length: 2_000 }, (_, i) => `fact ${i}: the hive holds ${i} bees`).join('\n');
    const posted = await call<{ id: string }>(mcp.client, 'post_task', {
      swarm,
      type: 'ask',
      description: 'How many bees does fact 1234 count?',
      data: { fact: 1234 },
      contextText: context,
    });
    const claimed = await call<Claimed>(mcp.client, 'claim_task', { swarm, type: 'ask', waitMs: 5_000 });
    expect(claimed).toMatchObject({
      outcome: 'claimed',
      task: {
        id: posted.id,
        description: 'How many bees does fact 1234 count?',
        data: { fact: 1234 },
        attempt: 1,
      },
      context: { bytes: Buffer.byteLength(context), lines: 2_000 },
      leaseMs: 600_000,
    });
    expect(claimed.claim).toMatch(new RegExp(`^${swarm}/ask/\\d+-\\d+/.+$`));
    expect(claimed.context?.ref).toBe(claimed.task.context);

    let text = '';
    let next: Page['next'] = { line: 1 };
    while (next) {
      const page: Page = await call<Page>(mcp.client, 'read_context', {
        swarm,
        ref: claimed.context?.ref,
        line: next.line,
        lines: 300,
      });
      text += page.text;
      next = page.next;
    }
    expect(text).toBe(context);
    const answer = text.split('\n').find((l) => l.startsWith('fact 1234:'));

    const reported = await call<{ outcome: string; findingId: string }>(mcp.client, 'report_finding', {
      claim: claimed.claim,
      summary: answer,
      data: { bees: 1234 },
      tags: ['bees'],
    });
    expect(reported).toMatchObject({ outcome: 'completed', claim: claimed.claim });
    const again = await call(mcp.client, 'report_finding', { claim: claimed.claim, summary: 'twice' });
    expect(again).toMatchObject({
      outcome: 'settled',
      reason: expect.stringContaining('nothing was written'),
    });

    const listed = await call<{ findings: Record<string, unknown>[] }>(mcp.client, 'list_findings', {
      swarm,
    });
    expect(listed.findings).toEqual([
      expect.objectContaining({
        id: reported.findingId,
        taskId: posted.id,
        type: 'ask',
        summary: 'fact 1234: the hive holds 1234 bees',
        data: { bees: 1234 },
        tags: ['bees'],
        contextVersion: claimed.context?.ref,
      }),
    ]);
  });

  it("answers outcome 'no-task' when nothing comes within waitMs", async () => {
    const swarm = nextSwarm();
    expect(await call(mcp.client, 'claim_task', { swarm, type: 'ask', waitMs: 0 })).toEqual({
      outcome: 'no-task',
      swarm,
      type: 'ask',
    });
  });

  it('fails a task for a retry, then dead-letters it without one', async () => {
    const swarm = nextSwarm();
    const posted = await call<{ id: string }>(mcp.client, 'post_task', { swarm, type: 'flaky' });
    const first = await call<Claimed>(mcp.client, 'claim_task', { swarm, type: 'flaky', waitMs: 5_000 });
    const retried = await call(mcp.client, 'fail_task', { claim: first.claim, error: 'the tool timed out' });
    expect(retried).toMatchObject({ outcome: 'retry', attempt: 2, delayMs: expect.any(Number) });
    expect(await call(mcp.client, 'fail_task', { claim: first.claim, error: 'again' })).toMatchObject({
      outcome: 'settled',
    });
    // Back after its backoff (a second or two): the wait covers it.
    const second = await call<Claimed>(mcp.client, 'claim_task', { swarm, type: 'flaky', waitMs: 20_000 });
    expect(second).toMatchObject({ outcome: 'claimed', task: { id: posted.id, attempt: 2 } });
    const dead = await call(mcp.client, 'fail_task', {
      claim: second.claim,
      error: 'cannot parse',
      retry: false,
    });
    expect(dead).toMatchObject({ outcome: 'dead' });
    const letters = await bus.deadLetters(swarm);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.task?.id).toBe(posted.id);
    expect(letters[0]?.errors.map((e) => e.message)).toEqual(['the tool timed out', 'cannot parse']);
  });

  it('renews a lease while the claim holds its task, and says settled once it is reported', async () => {
    const swarm = nextSwarm();
    await call(mcp.client, 'post_task', { swarm, type: 'slow' });
    const claimed = await call<Claimed>(mcp.client, 'claim_task', { swarm, type: 'slow', waitMs: 5_000 });
    expect(await call(mcp.client, 'renew_lease', { claim: claimed.claim, leaseMs: 900_000 })).toEqual({
      outcome: 'renewed',
      claim: claimed.claim,
      leaseMs: 900_000,
    });
    expect(await call(mcp.client, 'renew_lease', { claim: claimed.claim })).toMatchObject({
      outcome: 'renewed',
    });
    await call(mcp.client, 'report_finding', { claim: claimed.claim, summary: 'done' });
    expect(await call(mcp.client, 'renew_lease', { claim: claimed.claim })).toMatchObject({
      outcome: 'settled',
    });
  });

  it('reports lost when the lease lapsed and another worker took the task', async () => {
    const swarm = nextSwarm();
    await call(mcp.client, 'post_task', { swarm, type: 'ask' });
    const lapsing = await call<Claimed>(mcp.client, 'claim_task', {
      swarm,
      type: 'ask',
      waitMs: 5_000,
      leaseMs: 1,
    });
    const taker = await bus.claim(swarm, 'ask', { waitMs: 20_000 });
    expect(taker?.task.id).toBe(lapsing.task.id);
    const late = await call(mcp.client, 'report_finding', { claim: lapsing.claim, summary: 'too late' });
    expect(late).toMatchObject({ outcome: 'lost', reason: expect.stringContaining('lease lost') });
    expect(await bus.readFindings(swarm)).toEqual([]);
  });

  it('refuses claims and handles of swarms outside --swarm, and handles that are not handles', async () => {
    const refused = await callError(mcp.client, 'claim_task', { swarm: 'payroll', type: 'ask', waitMs: 0 });
    expect(refused).toContain('"payroll" is outside');
    expect(refused).toContain('claims-*');
    await bus.post('payroll', 'ask', {});
    const foreign = await bus.claim('payroll', 'ask', { waitMs: 5_000 });
    const claim = foreign?.handle;
    for (const [tool, args] of [
      ['report_finding', { claim, summary: 's' }],
      ['fail_task', { claim, error: 'e' }],
      ['renew_lease', { claim }],
    ] as const)
      expect(await callError(mcp.client, tool, args)).toContain('"payroll" is outside');
    expect(await bus.readFindings('payroll')).toEqual([]);
    const bad = await callError(mcp.client, 'report_finding', { claim: 'not-a-handle', summary: 's' });
    expect(bad).toContain('invalid claim');
  });

  it('names the field when report_finding arguments are wrong', async () => {
    const missing = await callError(mcp.client, 'report_finding', { claim: 'claims-1/ask/1-0/c' });
    expect(missing).toMatch(/summary/);
    const wrong = await callError(mcp.client, 'claim_task', {
      swarm: 'claims-1',
      type: 'ask',
      waitMs: 'soon',
    });
    expect(wrong).toMatch(/waitMs/);
    const tooLong = await callError(mcp.client, 'claim_task', {
      swarm: 'claims-1',
      type: 'ask',
      waitMs: 3_600_000,
    });
    expect(tooLong).toMatch(/waitMs/);
  });
});
