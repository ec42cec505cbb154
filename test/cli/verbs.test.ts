import { join } from 'node:path';
import type { Finding } from '@swarm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, ROOT, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';

describe('swarm CLI verbs', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
  });

  it('prints usage and exits 2 with no command, 0 with --help', async () => {
    const none = await swarmCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: swarm <command>');
    expect((await swarmCli(['--help'])).code).toBe(0);
  });

  it('refuses an unknown command and an unknown flag with exit 2', async () => {
    const unknown = await swarmCli(['launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "launch"');
    const flag = await swarmCli(['status', '--colour'], { env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('swarm status has no option --colour');
    expect(flag.stderr).not.toMatch(/\n\s+at /);
  });

  it('posts a task, prints its id, and shows it waiting in status', async () => {
    const posted = await swarmCli(['post', 'cli', 'echo', '--data', '{"n":1}', '--description', 'hi'], {
      env,
    });
    expect(posted.code).toBe(0);
    const id = posted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const status = await swarmCli(['status', 'cli', '--json'], { env });
    expect(status.code).toBe(0);
    const record = JSON.parse(status.stdout);
    expect(record).toMatchObject({ swarm: 'cli', types: [{ type: 'echo', waiting: 1, inFlight: 0 }] });
  });

  it('posts once per idempotency key', async () => {
    const args = ['post', 'idem', 'echo', '--idempotency-key', 'k', '--json'];
    const first = JSON.parse((await swarmCli(args, { env })).stdout);
    const second = JSON.parse((await swarmCli(args, { env })).stdout);
    expect(second).toEqual({ ...first, duplicate: true });
  });

  it('rejects bad JSON data and bad names with a message and exit 2', async () => {
    const data = await swarmCli(['post', 'cli', 'echo', '--data', '{nope'], { env });
    expect(data.code).toBe(2);
    expect(data.stderr).toContain('--data is not valid JSON');
    const name = await swarmCli(['post', 'no good', 'echo'], { env });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('invalid swarm name');
  });

  it('says which Redis it cannot reach, without its password, and exits 1', async () => {
    const result = await swarmCli(['status', '--redis', 'redis://:hunter2@127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });

  it('needs a Redis for verbs that talk to other processes', async () => {
    const result = await swarmCli(['post', 'cli', 'echo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs a Redis');
  });

  it('validates a topology: ok, and file:line:col for a bad one', async () => {
    const bad = await swarmCli(['validate', join(ROOT, 'test/fixtures/topologies/bad/misspelt-key.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /misspelt-key\.yaml:7:9: unknown key "concurrncy": did you mean "concurrency"\?/,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const missing = await swarmCli(['validate', 'no/such/file.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read topology: no such file');
  });

  it('stores a context from stdin and reads it back', async () => {
    const put = await swarmCli(['context', 'put', 'ctx', '-'], { env, input: 'the shard knows' });
    expect(put.code).toBe(0);
    const ref = put.stdout.trim();
    const get = await swarmCli(['context', 'get', 'ctx', ref], { env });
    expect(get.stdout).toBe('the shard knows');
    const missing = await swarmCli(['context', 'get', 'ctx', 'f'.repeat(32)], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('is not readable');
  });

  it('lists and retries dead letters', async () => {
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url, { protocol: 2 });
    // A dead letter as a worker would leave it.
    await raw.xadd(
      'swarm:{dead}:dead',
      '*',
      'type',
      'echo',
      'reason',
      'failed 3 of 3 attempts: boom',
      'dead_at',
      '1',
      'errors',
      '[{"attempt":3,"message":"boom","at":1}]',
      'entry',
      JSON.stringify({ task: JSON.stringify({ id: 't-1', attempt: 3, created: 1 }) }),
    );
    raw.disconnect();
    const list = await swarmCli(['dlq', 'dead', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const letter = JSON.parse(list.stdout);
    expect(letter).toMatchObject({
      type: 'echo',
      reason: 'failed 3 of 3 attempts: boom',
      task: { id: 't-1' },
    });
    const retry = await swarmCli(['dlq', 'dead', 'retry', letter.id], { env });
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('as task t-1');
    const status = JSON.parse((await swarmCli(['status', 'dead', '--json'], { env })).stdout);
    expect(status).toMatchObject({ deadLetters: 0, types: [{ type: 'echo', waiting: 1 }] });
  });
});

describe('swarm findings across swarms', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
    const { RedisBus } = await import('@swarm/core');
    const bus = new RedisBus({ url: redis.url });
    for (const [swarm, tags] of [
      ['research-a', ['risk']],
      ['research-b', ['auth']],
      ['other', ['risk']],
    ] as const) {
      await bus.post(swarm, 'echo', {});
      await new Promise<void>((resolve) => {
        const sub = bus.consume(swarm, 'echo').subscribe((d) => {
          d.complete({ summary: `from ${swarm}`, tags: [...tags] }).then(() => {
            sub.unsubscribe();
            resolve();
          });
        });
      });
    }
    await bus.close();
  });

  const summaries = (stdout: string) =>
    jsonLines<Finding>(stdout)
      .map((f) => f.summary)
      .sort();

  it('reads several swarms, and swarms matching a pattern', async () => {
    const two = await swarmCli(['findings', 'research-a', 'other', '--json'], { env });
    expect(summaries(two.stdout)).toEqual(['from other', 'from research-a']);
    const pattern = await swarmCli(['findings', 'research-*', '--json'], { env });
    expect(summaries(pattern.stdout)).toEqual(['from research-a', 'from research-b']);
  });

  it('keeps only findings with a given tag', async () => {
    const risky = await swarmCli(['findings', '*', '--tag', 'risk', '--json'], { env });
    expect(summaries(risky.stdout)).toEqual(['from other', 'from research-a']);
    const either = await swarmCli(['findings', '*', '--tag', 'auth', '--tag', 'risk', '--json'], { env });
    expect(summaries(either.stdout)).toHaveLength(3);
  });
});
