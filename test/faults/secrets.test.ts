import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, jsonLines, swarmCli } from '../support/cli';
import { freePort, useRedisServer } from '../support/redis-server';

/**
 * Secrets: no command handler runs through a shell; task data never becomes a command argument
 * unless the topology says so; API keys and passwords in URLs are redacted from logs, `status` and
 * `--json` output.
 */

const FIXTURES = join(import.meta.dirname, 'fixtures');
const TOPOLOGY = join(FIXTURES, 'secrets-command.yaml');
const STACK_LINE = /\n\s+at /;

/** What fixtures/secrets-argv.mjs reports as its finding's data. */
interface Received {
  argv: string[];
  stdin: string;
  env: Record<string, string>;
  cwd: string;
}

describe('secrets', () => {
  // Passing args always starts a private server, even with REDIS_URL set: this test adds a user.
  const redis = useRedisServer({ args: ['--acllog-max-len', '128'] });
  let admin: Redis;
  // Characters a URL must encode, so both the raw and the encoded form are looked for.
  const token = randomUUID().slice(0, 12);
  const PASSWORD = `pa:ss/w@rd%${token}`;
  const secrets = [PASSWORD, encodeURIComponent(PASSWORD), token];
  let url: string;
  let hostPort: string;
  let marker: string;
  let scratch: string;

  const expectNoSecret = (r: CliResult, what: string) => {
    for (const secret of secrets) {
      expect(r.stdout, `${what}: stdout`).not.toContain(secret);
      expect(r.stderr, `${what}: stderr`).not.toContain(secret);
    }
  };
  /** Debug logging on, and no SWARM_DEBUG stacks: what an operator chasing a problem would run. */
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    SWARM_REDIS_URL: url,
    SWARM_LOG_LEVEL: 'debug',
    SWARM_DEBUG: '',
    // What the fixture topology interpolates.
    SWARM_FAULTS_MARKER: marker,
    SWARM_FAULTS_NODE: process.execPath,
    ...extra,
  });

  beforeAll(async () => {
    admin = new Redis(redis.url, { protocol: 2 });
    await admin.call('ACL', 'SETUSER', 'swarm-app', 'reset', 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
    const parsed = new URL(redis.url);
    hostPort = `${parsed.hostname}:${parsed.port}`;
    url = `redis://swarm-app:${encodeURIComponent(PASSWORD)}@${hostPort}`;
    marker = join(tmpdir(), `pwned-${randomUUID()}`);
    scratch = mkdtempSync(join(tmpdir(), 'swarm-secrets-'));
  });

  afterAll(async () => {
    admin?.disconnect();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (marker) rmSync(marker, { force: true });
  });

  it('the URL really carries a password: the app user works with it and is refused without it', async () => {
    const good = new RedisBus({ url });
    // Its refusal is expected: keep the bus's warning out of the test output.
    const saved = process.env.SWARM_LOG_LEVEL;
    process.env.SWARM_LOG_LEVEL = 'silent';
    const bad = new RedisBus({
      url: `redis://swarm-app:wrong@${hostPort}`,
      redis: { maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    if (saved === undefined) delete process.env.SWARM_LOG_LEVEL;
    else process.env.SWARM_LOG_LEVEL = saved;
    bad.connection.onError(() => {});
    try {
      expect(await (await good.redis()).ping()).toBe('PONG');
      expect(await (await good.redis()).call('ACL', 'WHOAMI')).toBe('swarm-app');
      await expect((await bad.redis()).ping()).rejects.toThrow();
    } finally {
      await good.close();
      await bad.close();
    }
  });

  describe('command handlers, through the real `swarm run <topology> --once`', () => {
    let run: CliResult;
    let byType: Map<string, { received: Received; task: Record<string, unknown> }>;

    beforeAll(async () => {
      run = await swarmCli(['run', TOPOLOGY, '--once', '--json'], {
        // Both names a CLI agent might log; the command must see neither.
        env: env({ REDIS_URL: url }),
        timeoutMs: 60_000,
      });
      byType = new Map();
      for (const r of jsonLines(run.stdout)) {
        const received = r.data as unknown as Received;
        byType.set(r.type as string, { received, task: JSON.parse(received.stdin) });
      }
    });

    it('runs both tasks to a finding, and nothing was ever executed by a shell', () => {
      expect(run.code, run.stderr).toBe(0);
      expect([...byType.keys()].sort()).toEqual(['as-args', 'stdin-only']);
      // Every string in the data would have created this file, had a shell seen it.
      expect(existsSync(marker)).toBe(false);
    });

    it('gives a plain command exactly its topology argv; the data arrives on stdin only', () => {
      const { received, task } = byType.get('stdin-only') ?? expect.unreachable();
      // Not the data appended, and `$HOME` in the topology's own argv not expanded either.
      expect(received.argv).toEqual(['fixed-arg', '$HOME']);
      expect(received.cwd).toBe(FIXTURES);
      expect(task.data).toEqual({
        quote: `"; touch ${marker} #`,
        single: `'; touch ${marker} #`,
        subst: `$(touch ${marker})`,
        id: '$(id)',
        backticks: `\`touch ${marker}\``,
        chain: `x && touch ${marker} || touch ${marker}; touch ${marker} | cat`,
        redirect: `> ${marker}`,
        newline: `a\ntouch ${marker}`,
      });
      // stdin is the task as JSON, byte for byte what was posted.
      expect(JSON.parse(received.stdin)).toMatchObject({ type: 'stdin-only', swarm: 'secrets-cmd' });
      // None of the data leaked into the environment either (SWARM_FAULTS_MARKER is the test's own).
      const { SWARM_FAULTS_MARKER: _, ...rest } = received.env;
      expect(Object.values(rest).filter((v) => v.includes(marker) || v.includes('$(id)'))).toEqual([]);
    });

    it('with passDataAsArgs, each string of the data is one argument, verbatim', () => {
      const { received, task } = byType.get('as-args') ?? expect.unreachable();
      const data = task.data as string[];
      expect(received.argv).toEqual(['fixed-arg', ...data]);
      expect(data).toEqual([
        `"; touch ${marker} #`,
        `'; touch ${marker} #`,
        `$(touch ${marker})`,
        '$(id)',
        `\`touch ${marker}\``,
        `x && touch ${marker}`,
        `> ${marker}`,
        '$HOME',
        '*',
        'two words',
        '',
        '--inspect=0.0.0.0:9229',
        `a\ntouch ${marker}`,
      ]);
    });

    it('hands the command neither SWARM_REDIS_URL nor REDIS_URL, nor the password in any variable', () => {
      for (const { received } of byType.values()) {
        expect(received.env.SWARM_REDIS_URL).toBeUndefined();
        expect(received.env.REDIS_URL).toBeUndefined();
        for (const secret of secrets)
          expect(Object.entries(received.env).filter(([, v]) => v.includes(secret))).toEqual([]);
        expect(received.env).toMatchObject({ SWARM_SWARM: 'secrets-cmd', SWARM_ATTEMPT: '1' });
        expect(received.env.SWARM_CONTEXT_FILE).toBeDefined();
      }
    });

    it('`run --json` at debug level names the transport, host and port, never the password', () => {
      expectNoSecret(run, 'run --once --json');
      expect(run.stderr).toContain(`transport: redis redis://swarm-app:***@${hostPort}`);
      // Debug logging was really on: the command handler's own log line is there.
      expect(run.stderr).toContain('"msg":"command exited"');
    });
  });

  it('no verb prints the password, at debug level, in text or --json', async () => {
    const swarm = 'secrets-verbs';
    const file = join(scratch, 'context.txt');
    writeFileSync(file, 'a context for the secrets test');
    const posted = await swarmCli(['post', swarm, 'echo', '--data', '"hello"', '--json'], { env: env() });
    expect(posted.code, posted.stderr).toBe(0);
    const worked = await swarmCli(['worker', swarm, 'echo', '--once', '--json'], { env: env() });
    expect(worked.code, worked.stderr).toBe(0);
    expect(jsonLines(worked.stdout)[0]).toMatchObject({ outcome: 'completed', summary: '"hello"' });
    const put = await swarmCli(['context', 'put', swarm, file], { env: env() });
    expect(put.code, put.stderr).toBe(0);
    const ref = put.stdout.trim();
    const runs: [string, string[], NodeJS.ProcessEnv?][] = [
      ['status', ['status']],
      ['status --json', ['status', '--json']],
      ['status <swarm> --json', ['status', swarm, '--json']],
      ['findings --json', ['findings', swarm, '--json']],
      ['findings', ['findings', swarm]],
      ['dlq list --json', ['dlq', swarm, 'list', '--json']],
      ['context get', ['context', 'get', swarm, ref]],
      ['validate --json', ['validate', TOPOLOGY, '--json']],
      // The URL given as a flag instead of the environment.
      ['status --redis <url> --json', ['status', '--redis', url, '--json'], { SWARM_REDIS_URL: '' }],
    ];
    const results = await Promise.all(runs.map(([, args, extra]) => swarmCli(args, { env: env(extra) })));
    for (const [i, r] of [posted, worked, put, ...results].entries()) {
      const what = ['post --json', 'worker --once --json', 'context put', ...runs.map(([w]) => w)][
        i
      ] as string;
      expectNoSecret(r, what);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      if (!what.startsWith('validate'))
        expect(r.stderr, what).toContain(`transport: redis redis://swarm-app:***@${hostPort}`);
    }
    const [, statusJson] = results;
    expect(jsonLines(statusJson?.stdout ?? '').map((s) => s.swarm)).toContain(swarm);
  });

  it('a failing connection names host and port, never the password, in one line without a stack', async () => {
    const closedPort = await freePort();
    const unreachable = `redis://swarm-app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${closedPort}`;
    const wrongPassword = `redis://swarm-app:${encodeURIComponent(`${PASSWORD}-wrong`)}@${hostPort}`;
    const cases: [string, string[], string][] = [
      ['status, closed port', ['status', '--json'], unreachable],
      ['post, closed port', ['post', 's', 'echo', '--json'], unreachable],
      ['worker --once, closed port', ['worker', 's', 'echo', '--once', '--json'], unreachable],
      ['status, wrong password', ['status', '--json'], wrongPassword],
      ['findings --follow, wrong password', ['findings', 's', '--follow', '--json'], wrongPassword],
      // `run` reads findings through an Observable with no error handler (run.ts): the error
      // escaped as an uncaught exception, whose report printed ioredis's AUTH arguments.
      ['run --once, wrong password', ['run', TOPOLOGY, '--once', '--json'], wrongPassword],
    ];
    const results = await Promise.all(
      cases.map(([, args, redis]) => swarmCli(args, { env: env({ SWARM_REDIS_URL: redis }) })),
    );
    for (const [i, r] of results.entries()) {
      const [what, , redis] = cases[i] as [string, string[], string];
      expectNoSecret(r, what);
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stdout, what).toBe('');
      // Besides debug log lines (JSON), stderr holds the transport note and `swarm: <message>`:
      // no error object dumped, no stack.
      const prose = r.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
      expect(
        prose.filter((line) => !/^(transport|swarm): /.test(line)),
        what,
      ).toEqual([]);
      expect(r.stderr, what).not.toMatch(STACK_LINE);
      const said = prose.filter((line) => line.startsWith('swarm: '));
      expect(said.length, what).toBeGreaterThan(0);
      const port = new URL(redis).port;
      if (!what.startsWith('run'))
        expect(said[0], what).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
      expect(r.stderr, what).toContain(`transport: redis redis://swarm-app:***@127.0.0.1:${port}`);
    }
  });
});
