import { spawn, spawnSync } from 'node:child_process';
import { RedisBus } from '@swarm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, ROOT, SWARM_BIN, startSwarmCli, swarmCli } from '../support/cli';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Issue #12's CLI list, the parts that talk to Redis: findings in a pipe, over spans of time,
 * across swarms and for a misspelt swarm; dlq purge; unsubscribe; status of a misspelt swarm; and
 * a long-running worker's line per task on a terminal.
 */

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

describe('the CLI against Redis (issue #12)', () => {
  const redis = useRedisServer();
  let env: NodeJS.ProcessEnv;
  let bus: RedisBus;

  beforeAll(async () => {
    env = { SWARM_REDIS_URL: redis.url };
    bus = new RedisBus({ url: redis.url });
    await bus.publish('alpha', { type: 'note', summary: 'from alpha' });
    await bus.publish('beta', { type: 'note', summary: 'from beta' });
  });
  afterAll(() => bus?.close());

  /** Posts `n` tasks of `type` and fails each without retry: `n` dead letters. */
  async function deadLetters(swarm: string, n: number): Promise<void> {
    await bus.postBatch(
      swarm,
      'boom',
      Array.from({ length: n }, (_, i) => ({ data: i })),
    );
    let failed = 0;
    const sub = bus.consume(swarm, 'boom', { concurrency: n }).subscribe(async (d) => {
      await d.fail(new Error('poison'), { retry: false });
      failed++;
    });
    await until(() => failed === n, `${n} dead letters`);
    sub.unsubscribe();
    await bus.drain();
  }

  it('findings | head -1 ends quietly with exit 0, for a long stream', async () => {
    for (let i = 0; i < 4; i++)
      await Promise.all(
        Array.from({ length: 500 }, (_, j) => bus.publish('big', { type: 'n', summary: `n${i * 500 + j}` })),
      );
    const piped = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${SWARM_BIN}" findings big | head -1; echo "exit \${PIPESTATUS[0]}" >&2`,
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(piped.stderr).toContain('exit 0');
    expect(piped.stderr).not.toContain('EPIPE');
    expect(piped.stderr).not.toMatch(/\n\s+at /);
  });

  it('--from takes 5m, 2h, 1d; a finding shows its time, and its swarm when several are shown', async () => {
    for (const span of ['90s', '5m', '2h', '1d']) {
      const r = await swarmCli(['findings', 'alpha', '--from', span], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('from alpha');
    }
    const one = await swarmCli(['findings', 'alpha'], { env });
    const [first] = one.stdout.split('\n');
    expect(first).toMatch(new RegExp(`^${ISO_TIME.source} {2}note {2}task `));
    const alpha = (await bus.readFindings('alpha'))[0];
    expect(first).toContain(new Date(Number(alpha?.id.split('-')[0])).toISOString());
    expect(first).toContain(`id ${alpha?.id}`);
    const both = await swarmCli(['findings', 'alpha', 'beta'], { env });
    expect(both.stdout).toMatch(new RegExp(`^${ISO_TIME.source} {2}alpha {2}note `, 'm'));
    expect(both.stdout).toMatch(new RegExp(`^${ISO_TIME.source} {2}beta {2}note `, 'm'));
    const pattern = await swarmCli(['findings', 'alph*'], { env });
    expect(pattern.stdout).toMatch(/Z {2}alpha {2}note /);
    const bad = await swarmCli(['findings', 'alpha', '--from', '5 minutes'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a span ago (30s, 5m, 2h, 1d)');
  });

  it('a swarm Redis does not hold gets a hint naming those it does', async () => {
    const misspelt = await swarmCli(['findings', 'alpah'], { env });
    expect(misspelt.code).toBe(0);
    expect(misspelt.stderr).toMatch(
      /no swarm named alpah on this Redis; did you mean alpha\? \(known swarms: .*alpha/,
    );
    const status = await swarmCli(['status', 'bta'], { env });
    expect(status.stderr).toContain('no swarm named bta on this Redis; did you mean beta?');
    // A real swarm gets no hint.
    expect((await swarmCli(['findings', 'alpha'], { env })).stderr).not.toContain('no swarm named');
  });

  it('dlq purge: refused without a terminal or --yes, asks on a terminal, purges with --yes', async () => {
    await deadLetters('purge', 3);
    const refused = await swarmCli(['dlq', 'purge', 'purge'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'purge 3 dead letter(s) of swarm purge: not asked without a terminal; pass --yes',
    );
    expect((await bus.status('purge')).deadLetters).toBe(3);
    if (hasScript) {
      const ask = (answer: string) =>
        spawnSync('script', ['-qec', `"${process.execPath}" "${SWARM_BIN}" dlq purge purge`, '/dev/null'], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          input: `${answer}\n`,
          encoding: 'utf8',
          timeout: 60_000,
        });
      const no = ask('n');
      expect(no.stdout).toContain('purge 3 dead letter(s) of swarm purge? [y/N]');
      expect(no.status).toBe(1);
      expect((await bus.status('purge')).deadLetters).toBe(3);
      const yes = ask('y');
      expect(yes.status).toBe(0);
      expect(yes.stdout).toContain('purged 3 dead letter(s) of swarm purge');
      await deadLetters('purge', 3);
    }
    const purged = await swarmCli(['dlq', 'purge', 'purge', '--yes', '--json'], { env });
    expect(purged.code).toBe(0);
    expect(jsonLines(purged.stdout)).toEqual([{ swarm: 'purge', purged: 3 }]);
    expect(await bus.deadLetters('purge')).toEqual([]);
    const again = await swarmCli(['dlq', 'purge', 'purge', '--yes', '--json'], { env });
    expect(jsonLines(again.stdout)).toEqual([{ swarm: 'purge', purged: 0 }]);
  });

  it('unsubscribe forgets a durable subscriber, which then starts afresh', async () => {
    const follower = startSwarmCli(['findings', 'alpha', '--follow', '--subscriber', 'digest', '--json'], {
      env,
    });
    await until(async () => (await bus.cursors('alpha')).digest !== undefined, 'the durable cursor', 30_000);
    follower.child.kill('SIGINT');
    expect(await follower.exited).toBe(0);
    const forgot = await swarmCli(['unsubscribe', 'alpha', 'digest'], { env });
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toMatch(/^forgot subscriber digest of swarm alpha \(it was at \d+-\d+\)/);
    expect(await bus.cursors('alpha')).toEqual({});
    const unknown = await swarmCli(['unsubscribe', 'alpha', 'digest'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('swarm alpha has no durable subscriber digest (its subscribers: none)');
    // Started again under the same name, it reads from the start: the cursor is gone.
    const restarted = startSwarmCli(['findings', 'alpha', '--follow', '--subscriber', 'digest', '--json'], {
      env,
    });
    await until(() => restarted.stdout.includes('from alpha'), 'the first finding again', 30_000);
    restarted.child.kill('SIGINT');
    await restarted.exited;
  });

  it.skipIf(!hasScript)(
    'a long-running worker prints one line per task on a terminal, none in a pipe',
    async () => {
      // On a pty: `script` runs the worker; its own process group is ended at the end.
      const terminal = spawn(
        'script',
        ['-qec', `"${process.execPath}" "${SWARM_BIN}" worker lines echo`, '/dev/null'],
        {
          cwd: ROOT,
          env: { ...process.env, ...env, NO_COLOR: '1' },
          detached: true,
        },
      );
      let seen = '';
      terminal.stdout.on('data', (d: Buffer) => {
        seen += d;
      });
      const closed = new Promise((resolve) => terminal.on('close', resolve));
      try {
        await until(() => seen.includes('running; Ctrl-C drains'), 'the worker to start', 30_000);
        const ok = await bus.post('lines', 'echo', { data: 'hello' });
        await until(() => seen.includes(ok.id), 'the line of the task', 30_000);
        expect(seen).toMatch(
          new RegExp(`\\d\\d:\\d\\d:\\d\\d {2}${ok.id} {2}echo {2}completed {2}\\d+(ms|\\.\\d+s)`),
        );
      } finally {
        process.kill(-(terminal.pid as number), 'SIGINT');
        await closed;
      }
      const piped = startSwarmCli(['worker', 'lines', 'echo'], { env });
      await until(() => piped.stderr.includes('running; Ctrl-C drains'), 'the piped worker to start', 30_000);
      const posted = await bus.post('lines', 'echo', { data: 'quiet' });
      await until(
        async () => (await bus.readFindings('lines')).some((f) => f.taskId === posted.id),
        'its finding',
        30_000,
      );
      piped.child.kill('SIGINT');
      expect(await piped.exited).toBe(0);
      expect(piped.stdout).not.toContain(posted.id);
      expect(piped.stdout).toContain('drained: 1 completed, 0 failed');
    },
  );
});
