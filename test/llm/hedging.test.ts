import { RedisBus } from '@swarm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { findings, LlmRig, llmPoolSpec, providersOf, uniqueSwarm, until } from './helpers';

describe('an llm pool that hedges', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let swarm: string;
  const rig = new LlmRig();

  beforeEach(() => {
    bus = new RedisBus({ url: redis.url });
    swarm = uniqueSwarm();
  });
  afterEach(async () => {
    await rig.stop();
    await bus.close();
  });

  it('asks the next model when the first is slow: the first answer is the one finding, both calls are costed', async () => {
    // The first model's vendor takes 5 s; the hedge goes out after 200 ms and answers at once.
    const slow = await rig.vendor({ kind: 'anthropic', latencyMs: 5_000, firstTokenMs: 5_000 });
    const fast = await rig.vendor({ kind: 'openai', usage: { inputTokens: 50, outputTokens: 10 } });
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({
        model: 'anthropic:claude-haiku-4-5',
        fallback: ['openai:gpt-4.1-mini'],
        hedge: { afterMs: 200 },
      }),
      { providers: providersOf({ anthropic: slow, openai: fast }) },
    );
    const { id } = await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.taskId).toBe(id);
    expect(finding?.usage).toMatchObject({ provider: 'openai', inputTokens: 50, outputTokens: 10 });
    const calls = finding?.usage?.calls ?? [];
    expect(calls.map((c) => [c.provider, c.outcome])).toEqual([
      ['openai', 'answered'],
      ['anthropic', 'aborted'],
    ]);
    // The loser said nothing of its usage: its prompt is estimated, and paid for.
    expect(calls[1]).toMatchObject({ estimated: true });
    expect(calls[1]?.inputTokens).toBeGreaterThan(0);
    expect(calls[1]?.costUsd).toBeGreaterThan(0);
    expect(finding?.usage?.costUsd).toBeCloseTo((calls[0]?.costUsd ?? 0) + (calls[1]?.costUsd ?? 0), 12);
    await until(() => slow.counts.aborted === 1, 'the slow request to be aborted');

    // Exactly one finding, and every reservation settled: the spend is both calls', nothing held.
    expect(await bus.readFindings(swarm)).toHaveLength(1);
    const budgets = await bus.ledger.budgets(swarm);
    const pool = budgets.find((b) => b.name === 'pool:ask');
    expect(pool).toMatchObject({ heldUsd: 0, heldTokens: 0 });
    expect(pool?.spentUsd).toBeCloseTo(finding?.usage?.costUsd ?? 0, 12);
  });

  it('does not hedge a call that answers in time', async () => {
    const first = await rig.vendor({ kind: 'anthropic' });
    const second = await rig.vendor({ kind: 'openai' });
    await rig.pool(
      bus,
      swarm,
      llmPoolSpec({
        model: 'anthropic:claude-haiku-4-5',
        fallback: ['openai:gpt-4.1-mini'],
        hedge: { afterMs: 5_000 },
      }),
      { providers: providersOf({ anthropic: first, openai: second }) },
    );
    await bus.post(swarm, 'ask', { description: 'question' });
    const [finding] = await findings(bus, swarm, 1);
    expect(finding?.usage?.calls.map((c) => c.outcome)).toEqual(['answered']);
    expect(second.counts.requests).toBe(0);
  });
});
