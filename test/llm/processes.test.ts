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
 * Budgets and rate limits held across real processes: two `swarm run` processes of one topology,
 * each with an llm pool of concurrency 4, share one swarm budget and one provider concurrency
 * limit through Redis; neither counts in its own memory.
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

  it('spends no more than the budget between them and dead-letters the rest, each process answering some', async () => {
    const env = { SWARM_REDIS_URL: redis.url, FAKE_KEY: fake.apiKey };
    const runs: CliProcess[] = [
      startSwarmCli(['run', topology], { env }),
      startSwarmCli(['run', topology], { env }),
    ];
    const bus = new RedisBus({ url: redis.url });
    try {
      await until(
        () => runs.every((r) => r.stderr.includes('running;')),
        () => `both runs to start: ${runs.map((r) => r.stderr).join('\n')}`,
        30_000,
      );
      await bus.postBatch(
        swarm,
        'ask',
        Array.from({ length: 30 }, (_, i) => ({ description: `question ${i}` })),
      );
      const settled = async () =>
        (await bus.readFindings(swarm)).length + (await bus.deadLetters(swarm)).length === 30;
      await until(settled, 'every task answered or dead-lettered', 60_000);
      const findings = await bus.readFindings(swarm);
      const letters = await bus.deadLetters(swarm);
      const spent = (await bus.ledger.budgets(swarm)).find((b) => b.name === 'swarm');
      expect(findings.length).toBeGreaterThan(0);
      expect(new Set(findings.map((f) => f.taskId)).size).toBe(findings.length);
      for (const letter of letters) expect(letter.reason).toMatch(/budget exhausted/);
      expect(spent?.spentUsd ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(BUDGET_USD + 1e-12);
      expect(spent?.spentUsd).toBeCloseTo(findings.length * CALL_USD, 10);
      // Both took part: each reserves its first calls as its first tasks arrive, long before the
      // other's slow (300 ms) calls could have spent the budget.
      for (const run of runs)
        expect(findings.some((f) => f.workerId.includes(`-${run.child.pid}-`))).toBe(true);
    } finally {
      for (const run of runs) run.child.kill('SIGTERM');
      await Promise.all(runs.map((r) => r.exited));
      await bus.close();
    }
  });
});
