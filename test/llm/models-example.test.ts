import { join } from 'node:path';
import { type FakeVendor, startFakeVendor } from '@swarm/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, swarmCli } from '../support/cli';
import { type RedisServer, startRedisServer } from '../support/redis-server';

const EXAMPLE = join(ROOT, 'config/examples/models.yaml');

/**
 * config/examples/models.yaml as a user runs it: `swarm run --once`, real processes, real Redis,
 * the two vendors' real wire formats served by local fakes (ANTHROPIC_BASE_URL, OPENAI_BASE_URL).
 */
describe('config/examples/models.yaml', () => {
  let server: RedisServer;
  let anthropic: FakeVendor;
  let openai: FakeVendor;

  beforeAll(async () => {
    server = await startRedisServer();
    anthropic = await startFakeVendor({ kind: 'anthropic', apiKey: 'sk-ant-example-key' });
    openai = await startFakeVendor({ kind: 'openai', apiKey: 'sk-openai-example-key' });
  });
  afterAll(async () => {
    await Promise.all([anthropic.close(), openai.close()]);
    await server.stop();
  });

  it('says which variable to set when a key is missing, and runs nothing', async () => {
    const run = await swarmCli(['run', EXAMPLE, '--once'], {
      env: { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_BASE_URL: anthropic.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('set ANTHROPIC_API_KEY in the environment');
    expect(run.stderr).not.toContain('    at ');
    expect(anthropic.counts.requests).toBe(0);
  });

  it('answers every question with a model, each finding costed, within the budget', async () => {
    const env = {
      SWARM_REDIS_URL: server.url,
      ANTHROPIC_API_KEY: anthropic.apiKey,
      OPENAI_API_KEY: openai.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      OPENAI_BASE_URL: openai.url,
    };
    const run = await swarmCli(['run', EXAMPLE, '--once', '--json'], { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const findings = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((record) => record.type === 'ask');
    expect(findings).toHaveLength(4);
    for (const finding of findings) {
      expect(finding.usage).toMatchObject({ costUsd: expect.any(Number), priceVersion: expect.any(String) });
      expect(finding.usage.costUsd).toBeGreaterThan(0);
    }
    const cost = await swarmCli(['cost', 'docs', '--json'], { env });
    expect(cost.code, cost.stderr).toBe(0);
    const total = cost.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((record) => record.total);
    expect(total?.costUsd).toBeLessThanOrEqual(1);
    for (const output of [run.stdout, run.stderr, cost.stdout])
      for (const key of [anthropic.apiKey, openai.apiKey]) expect(output).not.toContain(key);
  });
});
