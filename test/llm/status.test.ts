import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { uniqueSwarm } from './helpers';

describe('swarm status shows model spend', () => {
  const redis = useRedisServer();
  let bus: RedisBus;

  beforeAll(() => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus.close();
  });

  it('per swarm and pool: spent, the cap and what is left, and what calls under way hold', async () => {
    const swarm = uniqueSwarm();
    // What an llm pool does around its calls: one settled, one under way.
    const budgets = [
      { name: 'swarm', usd: 5 },
      { name: 'pool:ask', tokens: 100_000 },
    ];
    const hold = { usd: 0.01, tokens: 2_000, budgets, rates: [{ name: 'anthropic' }], holdMs: 60_000 };
    await bus.ledger.reserve(swarm, { holder: 'ask/1-0', ...hold });
    await bus.ledger.settle(swarm, {
      holder: 'ask/1-0',
      usd: 0.25,
      tokens: 12_000,
      budgets: ['swarm', 'pool:ask'],
      rates: [{ name: 'anthropic' }],
    });
    await bus.ledger.reserve(swarm, { holder: 'ask/2-0', ...hold });
    await bus.post(swarm, 'ask', { description: 'q' });

    const env = { SWARM_REDIS_URL: redis.url };
    const human = await swarmCli(['status', swarm], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      'spend swarm: $0.2500 of $5.00 ($4.74 left), 12k tokens, $0.0100 held by calls under way',
    );
    expect(human.stdout).toContain(
      'spend pool:ask: $0.2500, 12k of 100k (86k left) tokens, $0.0100 held by calls under way',
    );

    const json = await swarmCli(['status', swarm, '--json'], { env });
    const [line] = json.stdout.trim().split('\n');
    expect(JSON.parse(line ?? '{}').budgets).toEqual([
      {
        name: 'pool:ask',
        spentUsd: 0.25,
        spentTokens: 12_000,
        heldUsd: 0.01,
        heldTokens: 2_000,
        limitTokens: 100_000,
        leftTokens: 86_000,
      },
      {
        name: 'swarm',
        spentUsd: 0.25,
        spentTokens: 12_000,
        heldUsd: 0.01,
        heldTokens: 2_000,
        limitUsd: 5,
        leftUsd: 4.74,
      },
    ]);
  });

  it('says nothing of spend for a swarm with no model workers', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'ask', { description: 'q' });
    const human = await swarmCli(['status', swarm], { env: { SWARM_REDIS_URL: redis.url } });
    expect(human.stdout).not.toContain('spend');
    const json = await swarmCli(['status', swarm, '--json'], { env: { SWARM_REDIS_URL: redis.url } });
    expect(JSON.parse(json.stdout.trim()).budgets).toEqual([]);
  });
});
