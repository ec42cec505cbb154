import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { RedisBus } from '@swarm/core';
import { WorkerPool } from '@swarm/worker';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { FIXTURES } from '../worker/helpers';
import { findings, LlmRig, llmPoolSpec, uniqueSwarm, until } from './helpers';

/** Distinctive, so that a search of every output for it cannot match anything else. */
const KEY = 'sk-ant-api03-SWARMTESTKEY-7f3e9c1d5b2a4e6f8091a2b3c4d5e6f7';

describe('an llm pool’s API keys', () => {
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

  it('never appear in a finding, a dead letter or a log line, even when a vendor echoes one', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const answering = await rig.vendor({ kind: 'anthropic', apiKey: KEY });
    // A gateway that quotes the key back in its error, and a vendor that refuses the key.
    const echoing = await rig.vendor({
      kind: 'openai',
      apiKey: KEY,
      script: () => ({ error: 500, message: `upstream refused key ${KEY}` }),
    });
    const refusing = await rig.vendor({ kind: 'google', apiKey: 'another-key' });
    const providers = {
      anthropic: { baseURL: answering.url, apiKey: KEY },
      openai: { baseURL: echoing.url, apiKey: KEY },
      google: { baseURL: refusing.url, apiKey: KEY },
    };
    const start = (type: string, llm: Record<string, unknown>) => {
      const pool = new WorkerPool({
        bus,
        swarm,
        spec: llmPoolSpec(llm, { type, maxAttempts: 1 }),
        baseDir: FIXTURES,
        logger,
        models: { providers },
      });
      pool.start();
      return pool;
    };
    const pools = [
      start('answered', { model: 'openai:gpt-4.1-mini', fallback: ['anthropic:claude-haiku-4-5'] }),
      start('echoed', { model: 'openai:gpt-4.1-mini' }),
      start('refused', { model: 'google:gemini-2.5-flash' }),
    ];
    await Promise.all(pools.map((p) => p.ready));
    for (const type of ['answered', 'echoed', 'refused']) await bus.post(swarm, type, { description: type });
    await findings(bus, swarm, 1);
    await until(async () => (await bus.deadLetters(swarm)).length === 2, 'two dead letters');
    await Promise.all(pools.map((p) => p.stop()));

    const stored = JSON.stringify([await bus.readFindings(swarm), await bus.deadLetters(swarm)]);
    expect(stored).toContain('upstream refused key <redacted>');
    expect(stored).toContain('API key not valid');
    expect(stored).not.toContain(KEY);
    expect(logged).toContain('model call failed');
    expect(logged).not.toContain(KEY);
    expect(echoing.requests[0]?.auth).toBe('ok');
  });

  it('never appear in the CLI’s --json output or its debug logs', async () => {
    const answering = await rig.vendor({ kind: 'anthropic', apiKey: KEY });
    const failing = await rig.vendor({
      kind: 'openai',
      apiKey: KEY,
      script: () => ({ error: 500, message: `key ${KEY} is over quota` }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'swarm-llm-keys-'));
    try {
      const topology = join(dir, 'keys.yaml');
      writeFileSync(
        topology,
        `providers:
  anthropic: { apiKey: "\${TEST_LLM_KEY}", baseURL: "\${ANTHROPIC_FAKE}" }
  openai: { apiKey: "\${TEST_LLM_KEY}", baseURL: "\${OPENAI_FAKE}" }
swarms:
  ${swarm}:
    shards:
      - id: s
        context: { text: "The context." }
        tasks:
          - { type: ask, description: a question }
          - { type: fails, description: another }
    workers:
      - { type: ask, handler: { llm: { model: anthropic:claude-haiku-4-5 } } }
      - { type: fails, maxAttempts: 1, handler: { llm: { model: openai:gpt-4.1-mini } } }
`,
      );
      const env = {
        TEST_LLM_KEY: KEY,
        ANTHROPIC_FAKE: answering.url,
        OPENAI_FAKE: failing.url,
        SWARM_REDIS_URL: redis.url,
        SWARM_LOG_LEVEL: 'debug',
      };
      const run = await swarmCli(['run', topology, '--once', '--json'], { env });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('"deadLetter"');
      const outputs = [
        run,
        await swarmCli(['findings', swarm, '--json'], { env }),
        await swarmCli(['dlq', swarm, 'list', '--json'], { env }),
        await swarmCli(['status', swarm, '--json'], { env }),
      ];
      const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
      expect(all).toContain('over quota');
      expect(all).toContain('"usage"');
      expect(all).not.toContain(KEY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
