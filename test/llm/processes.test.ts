import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { type FakeVendor, startFakeVendor } from '@swarm/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, startSwarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { uniqueSwarm } from './helpers';

/**
 * Every call reports 50 tokens in and 500 out (within what a short prompt reserves): at $1 and $5 a
 * million, $0.00255 a call.
 */
const CALL_USD = 0.00255;
const BUDGET_USD = 0.05;

/**
 * A budget held across real processes: two `swarm run` processes of one topology, each with an
 * llm pool, one after the other; the second knows what the first spent only from Redis. (Pools
 * sharing a budget at the same time: test/llm/budgets.test.ts with two buses, and the models
 * bench with four processes.)
 */
describe('llm pools in two swarm run processes', () => {
  const redis = useRedisServer();
  let fake: FakeVendor;
  let topology: string;
  const swarm = uniqueSwarm();

  beforeAll(async () => {
    fake = await startFakeVendor({
      kind: 'anthropic',
      latencyMs: 300,
      usage: { inputTokens: 50, outputTokens: 500 },
    });
    const dir = mkdtempSync(join(tmpdir(), 'swarm-llm-processes-'));
    topology = join(dir, 'topology.yaml');
    writeFileSync(
      topology,
      [
        'providers:',
        '  anthropic:',
        `    baseURL: ${fake.url}`,
        // The topology's own ${ENV} interpolation, not a template literal: the key stays out of the file.
        `    apiKey: \${FAKE_KEY}`,
        '    limits: { concurrency: 3 }',
        'prices:',
        '  anthropic:claude-haiku-4-5: { inputPerMTok: 1, outputPerMTok: 5 }',
        'swarms:',
        `  ${swarm}:`,
        `    budget: { usd: ${BUDGET_USD} }`,
        '    workers:',
        '      - type: ask',
        '        concurrency: 4',
        '        handler:',
        '          llm: { model: anthropic:claude-haiku-4-5, maxOutputTokens: 500, prompt: "{{description}}" }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fake.close());

  it('spends no more than the budget between them: the second process starts from what the first spent', async () => {
    const env = { SWARM_REDIS_URL: redis.url, FAKE_KEY: fake.apiKey };
    const bus = new RedisBus({ url: redis.url });
    const started = async () => {
      const run = startSwarmCli(['run', topology], { env });
      await until(
        () => run.stderr.includes('running;'),
        () => `the run to start: ${run.stderr}`,
        30_000,
      );
      return run;
    };
    const post = (from: number, count: number) =>
      bus.postBatch(
        swarm,
        'ask',
        Array.from({ length: count }, (_, i) => ({ description: `question ${from + i}` })),
      );
    const settled = (n: number) => async () =>
      (await bus.readFindings(swarm)).length + (await bus.deadLetters(swarm)).length === n;
    const runs: CliProcess[] = [];
    try {
      // The first process spends part of the budget, then stops.
      const first = await started();
      runs.push(first);
      await post(0, 5);
      await until(settled(5), 'the first five tasks', 60_000);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const spentByFirst = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm')?.spentUsd;
      expect(spentByFirst).toBeCloseTo(5 * CALL_USD, 10);

      // The second knows it only from Redis: it answers until the budget, then dead-letters the rest.
      const second = await started();
      runs.push(second);
      await post(5, 25);
      await until(settled(30), 'every task answered or dead-lettered', 60_000);
      const findings = await bus.readFindings(swarm);
      const letters = await bus.deadLetters(swarm);
      const spent = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
      expect(new Set(findings.map((f) => f.taskId)).size).toBe(findings.length);
      expect(letters.length).toBeGreaterThan(0);
      for (const letter of letters) expect(letter.reason).toMatch(/budget exhausted/);
      expect(spent?.spentUsd ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(BUDGET_USD + 1e-12);
      expect(spent?.spentUsd).toBeCloseTo(findings.length * CALL_USD, 10);
      const bySecond = findings.filter((f) => f.workerId.includes(`-${second.child.pid}-`));
      expect(bySecond.length).toBe(findings.length - 5);
      expect(bySecond.length).toBeGreaterThan(0);
    } finally {
      for (const run of runs) run.child.kill('SIGTERM');
      await Promise.all(runs.map((r) => r.exited));
      await bus.close();
    }
  });
});
