import type { Finding, FindingInput, ModelCall, RedisBus, Usage } from '@swarm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';

function call(
  model: string,
  outcome: ModelCall['outcome'],
  inputTokens: number,
  outputTokens: number,
  costUsd: number,
): ModelCall {
  const [provider, name] = model.split(':') as [string, string];
  return {
    provider,
    model: name,
    outcome,
    inputTokens,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens,
    reasoningTokens: 0,
    costUsd,
    ms: 100,
  };
}

/** The usage of a task whose calls these were, the last one answering. */
function usageOf(...calls: ModelCall[]): Usage {
  const answered = calls.at(-1) as ModelCall;
  return {
    provider: answered.provider,
    model: answered.model,
    inputTokens: answered.inputTokens,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: answered.outputTokens,
    reasoningTokens: 0,
    costUsd: calls.reduce((sum, c) => sum + c.costUsd, 0),
    priceVersion: 'genai-prices@0.1.8',
    calls,
  };
}

/** A finding the way a worker reports one: the task is posted, claimed and completed. */
async function complete(bus: RedisBus, swarm: string, type: string, finding: FindingInput): Promise<void> {
  await bus.post(swarm, type, {});
  await new Promise<void>((resolve, reject) => {
    const sub = bus.consume(swarm, type).subscribe((d) => {
      d.complete(finding).then(() => {
        sub.unsubscribe();
        resolve();
      }, reject);
    });
  });
}

const DAY_1 = Date.parse('2025-12-01T10:00:00Z');
const DAY_2 = Date.parse('2025-12-02T10:00:00Z');

describe('swarm cost', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;
  const json = async (...args: string[]) => {
    const result = await swarmCli(['cost', 'spend', ...args, '--json'], { env });
    expect(result.code).toBe(0);
    return jsonLines(result.stdout);
  };

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
    const { RedisBus, keys } = await import('@swarm/core');
    const bus = new RedisBus({ url: redis.url });
    const raw = await bus.redis();
    // Findings of earlier days, written as the protocol lays them down, with the ids Redis would
    // have given them then (a stream's ids only grow, so these go first).
    const old = (createdAt: number, type: string, usage: Usage) =>
      raw.xadd(
        keys.findings('spend'),
        `${createdAt}-0`,
        'finding',
        JSON.stringify({
          taskId: `t-${createdAt}`,
          type,
          summary: 'old',
          workerId: 'w',
          attempt: 1,
          createdAt,
          usage,
        }),
      );
    await old(DAY_1, 'ask', usageOf(call('anthropic:claude-haiku-4-5', 'answered', 800, 60, 0.001)));
    // A hedge: gemini was asked too, and lost.
    await old(
      DAY_2,
      'summarize',
      usageOf(
        call('google:gemini-2.5-flash', 'aborted', 2_000, 0, 0.0005),
        call('openai:gpt-4.1-mini', 'answered', 2_000, 300, 0.002),
      ),
    );
    // A fallback: sonnet failed, haiku answered.
    await complete(bus, 'spend', 'ask', {
      summary: 'answered by haiku',
      usage: usageOf(
        call('anthropic:claude-sonnet-4-5', 'failed', 1_000, 0, 0.003),
        call('anthropic:claude-haiku-4-5', 'answered', 1_000, 100, 0.0015),
      ),
    });
    await complete(bus, 'spend', 'ask', { summary: 'no model made this' });
    await bus.close();
  });

  it('sums every call under its own model, fallbacks and hedge losers included', async () => {
    const records = await json();
    const byModel = Object.fromEntries(records.filter((r) => !r.total).map((r) => [r.model, r]));
    expect(byModel).toEqual({
      'anthropic:claude-haiku-4-5': expect.objectContaining({
        findings: 2,
        calls: 2,
        inputTokens: 1_800,
        outputTokens: 160,
        costUsd: 0.0025,
      }),
      'anthropic:claude-sonnet-4-5': expect.objectContaining({ findings: 1, calls: 1, costUsd: 0.003 }),
      'openai:gpt-4.1-mini': expect.objectContaining({ findings: 1, calls: 1, costUsd: 0.002 }),
      'google:gemini-2.5-flash': expect.objectContaining({ findings: 1, calls: 1, costUsd: 0.0005 }),
    });
    expect(records.at(-1)).toEqual({
      swarm: 'spend',
      by: 'model',
      total: true,
      findings: 4,
      findingsWithoutUsage: 1,
      calls: 5,
      inputTokens: 6_800,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 460,
      reasoningTokens: 0,
      costUsd: 0.008,
    });
  });

  it('sums by task type', async () => {
    const records = await json('--by', 'type');
    expect(records.filter((r) => !r.total).map((r) => [r.type, r.findings, r.costUsd])).toEqual([
      ['ask', 2, 0.0055],
      ['summarize', 1, 0.0025],
    ]);
    expect(records.at(-1)).toMatchObject({ total: true, costUsd: 0.008 });
  });

  it('sums by UTC day, oldest first', async () => {
    const records = await json('--by', 'day');
    const today = new Date().toISOString().slice(0, 10);
    expect(records.filter((r) => !r.total).map((r) => [r.day, r.costUsd])).toEqual([
      ['2025-12-01', 0.001],
      ['2025-12-02', 0.0025],
      [today, 0.0045],
    ]);
  });

  it('starts where --from says', async () => {
    const fromTime = await json('--from', '2025-12-02T00:00:00Z');
    expect(fromTime.at(-1)).toMatchObject({ findings: 3, costUsd: 0.007 });
    const afterId = await json('--by', 'type', '--from', `${DAY_2}-0`);
    expect(afterId.at(-1)).toMatchObject({ findings: 2, findingsWithoutUsage: 1, costUsd: 0.0045 });
  });

  it('prints a table for people', async () => {
    const result = await swarmCli(['cost', 'spend'], { env });
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('swarm spend: $0.0080 over 4 finding(s), 5 model call(s)');
    expect(lines[1]).toMatch(/^\s+model\s+findings\s+calls\s+input\s+cached\s+output\s+cost$/);
    // Dearest first.
    expect(lines[2]).toMatch(/^\s+anthropic:claude-sonnet-4-5\s+1\s+1\s+1k\s+0\s+0\s+\$0\.0030$/);
    expect(lines[3]).toMatch(/^\s+anthropic:claude-haiku-4-5\s+2\s+2\s+1\.8k\s+0\s+160\s+\$0\.0025$/);
    expect(result.stdout).toMatch(/\n\s+total\s+4\s+5\s+6\.8k\s+0\s+460\s+\$0\.0080\n/);
    expect(result.stdout).toContain('1 finding(s) without usage, counted as $0');
  });

  it('refuses a grouping it does not know, and a missing swarm, with exit 2', async () => {
    const by = await swarmCli(['cost', 'spend', '--by', 'week'], { env });
    expect(by.code).toBe(2);
    expect(by.stderr).toContain('--by must be one of model, type, day: got week');
    const none = await swarmCli(['cost'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: swarm cost <swarm>');
  });

  it('is zero for a swarm with no findings', async () => {
    const records = jsonLines((await swarmCli(['cost', 'quiet', '--json'], { env })).stdout);
    expect(records).toEqual([
      expect.objectContaining({ swarm: 'quiet', total: true, findings: 0, calls: 0, costUsd: 0 }),
    ]);
  });
});

describe('swarm findings with usage', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
    const { RedisBus } = await import('@swarm/core');
    const bus = new RedisBus({ url: redis.url });
    await complete(bus, 'priced', 'ask', {
      summary: 'answered by haiku',
      usage: usageOf(
        call('anthropic:claude-sonnet-4-5', 'failed', 1_000, 0, 0.003),
        call('anthropic:claude-haiku-4-5', 'answered', 1_234, 80, 0.0015),
      ),
    });
    await complete(bus, 'priced', 'ask', { summary: 'no model made this' });
    await bus.close();
  });

  it('shows what a finding cost, its model and tokens, beside the finding', async () => {
    const result = await swarmCli(['findings', 'priced'], { env });
    expect(result.code).toBe(0);
    const [first, , second] = result.stdout.split('\n');
    expect(first).toMatch(
      /attempt 1 {2}\$0\.0045 \(claude-haiku-4-5, 1\.2k in \/ 80 out, 2 calls\) {2}id \d+-\d+$/,
    );
    expect(second).toMatch(/attempt 1 {2}id \d+-\d+$/);
  });

  it('carries the usage in --json', async () => {
    const [first] = jsonLines<Finding>((await swarmCli(['findings', 'priced', '--json'], { env })).stdout);
    expect(first?.usage).toMatchObject({
      model: 'claude-haiku-4-5',
      costUsd: expect.closeTo(0.0045, 10),
      calls: [{ outcome: 'failed' }, { outcome: 'answered' }],
    });
  });
});
