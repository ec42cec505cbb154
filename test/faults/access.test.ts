import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Delivery, type Finding, RedisBus, type RedisBusOptions } from '@swarm/core';
import { Redis } from 'ioredis';
import { firstValueFrom, type Subscription, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwarmCli, swarmCli } from '../support/cli';
import { freePort, useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/**
 * Access: swarm runs as a Redis ACL user restricted to its swarms' key patterns and channels; a
 * worker with credentials for swarm A can neither read nor write swarm B. TLS: `rediss://` against
 * a local redis-server with a certificate generated at test time.
 */

/**
 * The rules come from `swarm acl` (packages/cli/src/acl-roles.ts holds them): the line it prints
 * is what these users are made with. Alice and Bob are admins of one swarm each.
 */
async function aclSetuser(
  admin: Redis,
  swarm: string,
  role: string,
  user: string,
  password: string,
): Promise<string> {
  const printed = await swarmCli(['acl', swarm, '--role', role, '--user', user, '--password-env', 'ACL_PW'], {
    env: { ACL_PW: password },
  });
  expect(printed.code, printed.stderr).toBe(0);
  const line = printed.stdout.trim();
  // The password reaches the line only as its SHA-256.
  expect(line).not.toContain(password);
  const [acl, setuser, ...rules] = line.split(' ');
  expect([acl, setuser, rules[0]]).toEqual(['ACL', 'SETUSER', user]);
  await admin.call('ACL', 'SETUSER', ...rules);
  return line;
}

const NOPERM = /NOPERM/;
const STACK_LINE = /\n\s+at /;

/** As long as this suite has always waited: a refusal or a TLS server's start can take seconds under load. */
const LIMIT = { limitMs: 30_000 };

interface AclLogEntry {
  count: number;
  reason: string;
  context: string;
  object: string;
  username: string;
}

async function aclLog(admin: Redis, username: string): Promise<AclLogEntry[]> {
  const raw = (await admin.call('ACL', 'LOG', '1000')) as unknown[][];
  return raw
    .map((flat) => {
      const entry: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) entry[String(flat[i])] = flat[i + 1];
      return {
        count: Number(entry.count),
        reason: String(entry.reason),
        context: String(entry.context),
        object: String(entry.object),
        username: String(entry.username),
      };
    })
    .filter((e) => e.username === username);
}

/** Times `username` was refused `object` (a key, channel or command), per ACL LOG. */
async function denials(admin: Redis, username: string, object: string): Promise<number> {
  return (await aclLog(admin, username))
    .filter((e) => e.object === object)
    .reduce((sum, e) => sum + e.count, 0);
}

/** A bus whose own warnings stay quiet: the refusals below are expected, ACL LOG counts them. */
function quietBus(options: RedisBusOptions): RedisBus {
  const saved = process.env.SWARM_LOG_LEVEL;
  process.env.SWARM_LOG_LEVEL = 'silent';
  try {
    return new RedisBus(options);
  } finally {
    if (saved === undefined) delete process.env.SWARM_LOG_LEVEL;
    else process.env.SWARM_LOG_LEVEL = saved;
  }
}

describe('access: one Redis ACL user per swarm', () => {
  // Passing args always starts a private server, even with REDIS_URL set: this test changes its users.
  const redis = useRedisServer({ args: ['--acllog-max-len', '1000'] });
  let admin: Redis;
  let adminBus: RedisBus;
  const buses: RedisBus[] = [];
  const ALICE_PW = `alice-pw-${process.pid}`;
  const BOB_PW = `bob-pw-${process.pid}`;
  /** Alice may use swarm A only, Bob swarm B only. */
  let aliceUrl: string;
  let bobUrl: string;
  let secretContext: string;

  const userUrl = (user: string, password: string) => {
    const url = new URL(redis.url);
    url.username = user;
    url.password = password;
    return url.toString();
  };
  const open = (url: string, options: Partial<RedisBusOptions> = {}) => {
    const bus = quietBus({ url, ...options });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    admin = new Redis(redis.url, { protocol: 2 });
    await aclSetuser(admin, 'A', 'admin', 'alice', ALICE_PW);
    await aclSetuser(admin, 'B', 'admin', 'bob', BOB_PW);
    await admin.call('ACL', 'LOG', 'RESET');
    aliceUrl = userUrl('alice', ALICE_PW);
    bobUrl = userUrl('bob', BOB_PW);
    // Swarm B holds a waiting task, a finding, a context and a dead letter, written by the admin.
    adminBus = new RedisBus({ url: redis.url });
    secretContext = await adminBus.context.put('B', 'B-only context');
    await adminBus.post('B', 'secret-job', { data: { payload: 'B-only task' }, context: secretContext });
    await adminBus.publish('B', { type: 'note', summary: 'B-only finding' });
    await admin.call(
      'XADD',
      'swarm:{B}:dead',
      '*',
      'type',
      'secret-job',
      'reason',
      'B-only dead letter',
      'dead_at',
      '1',
      'errors',
      '[]',
      'entry',
      '{"task":"{\\"id\\":\\"d1\\",\\"attempt\\":1,\\"created\\":1}"}',
    );
  });

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await adminBus?.close();
    admin?.disconnect();
  });

  /** What swarm B holds, read by the admin: Alice's attempts must leave it exactly as it was. */
  const snapshotB = async () => ({
    tasks: await admin.xrange('swarm:{B}:tasks:secret-job', '-', '+'),
    groups: await admin.call('XINFO', 'GROUPS', 'swarm:{B}:tasks:secret-job'),
    findings: await admin.xrange('swarm:{B}:findings', '-', '+'),
    dead: await admin.xrange('swarm:{B}:dead', '-', '+'),
    cursors: await admin.hgetall('swarm:{B}:cursors'),
    keys: (await admin.keys('swarm:{B}:*')).sort(),
  });

  it('alice runs a whole round trip in swarm A, and Redis refuses her nothing', async () => {
    const shard = open(aliceUrl);
    const worker = open(aliceUrl);
    const findingsOf = (n: number) => firstValueFrom(shard.findings$('A').pipe(take(n), toArray()));
    const followed = firstValueFrom(shard.follow({ swarms: ['A'], name: 'x' }).pipe(take(5), toArray()));
    const live = findingsOf(5);

    const context = await shard.context.put('A', 'the shard context of A');
    await shard.post('A', 'ask', { data: { q: 1 }, context });
    const once = await shard.post('A', 'ask', { data: { q: 2 }, idempotencyKey: 'q2' });
    expect(once.duplicate).toBe(false);
    expect((await shard.post('A', 'ask', { data: { q: 2 }, idempotencyKey: 'q2' })).duplicate).toBe(true);
    await shard.postBatch('A', 'flaky', [{ data: 'retry me' }, { data: 'dead-letter me' }]);

    const subscriptions: Subscription[] = [];
    const settle = async (delivery: Delivery, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        await delivery.fail(error, { retry: false });
      }
    };
    subscriptions.push(
      worker.consume('A', 'ask', { concurrency: 2 }).subscribe((d) =>
        settle(d, async () => {
          // Read through Redis: this bus did not put the context, so nothing is cached.
          const text = d.task.context ? (await worker.context.get('A', d.task.context)).toString() : '';
          expect(await d.extend()).toBe(true);
          await d.complete({ summary: `${JSON.stringify(d.task.data)} ${text}`.trim() });
        }),
      ),
      worker.consume('A', 'flaky', { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 10 } }).subscribe((d) =>
        settle(d, async () => {
          if (d.task.data === 'retry me' && d.attempt === 1) await d.fail(new Error('first try fails'));
          else if (d.task.data === 'dead-letter me' && d.task.errors.length === 0)
            await d.fail(new Error('poison'), { retry: false });
          else await d.complete({ summary: `${d.task.data} done on attempt ${d.attempt}` });
        }),
      ),
    );
    await until(async () => (await shard.deadLetters('A')).length === 1, 'the dead letter', LIMIT);
    const [dead] = await shard.deadLetters('A');
    await shard.retryDeadLetter('A', dead?.id as string);
    await until(async () => (await shard.readFindings('A')).length === 4, 'four task findings', LIMIT);
    await shard.publish('A', { type: 'note', summary: 'published by alice' });

    const summaries = (fs: Finding[]) => fs.map((f) => f.summary).sort();
    const expected = [
      '{"q":1} the shard context of A',
      '{"q":2}',
      'dead-letter me done on attempt 1',
      'published by alice',
      'retry me done on attempt 2',
    ].sort();
    expect(summaries(await live)).toEqual(expected);
    expect(summaries(await followed)).toEqual(expected);
    const stored = await shard.readFindings('A');
    expect(summaries(stored)).toEqual(expected);

    // The durable follower's cursor is stored in A once it is done.
    await shard.flush();
    expect(await shard.cursors('A')).toEqual({ x: stored.at(-1)?.id });
    const status = await shard.status('A');
    expect(status).toMatchObject({ findings: 5, deadLetters: 0, subscribers: [{ name: 'x' }] });
    expect(status.types.map((t) => [t.type, t.waiting, t.inFlight, t.delayed])).toEqual([
      ['ask', 0, 0, 0],
      ['flaky', 0, 0, 0],
    ]);

    for (const s of subscriptions) s.unsubscribe();
    await worker.drain();
    // Every command and script above ran with alice's rules: ACL LOG has nothing about her.
    expect(await aclLog(admin, 'alice')).toEqual([]);
  });

  it('every attempt of alice on swarm B is refused with NOPERM, and B is left exactly as it was', async () => {
    const before = await snapshotB();
    const bus = open(aliceUrl);
    const [deadLetterId] = (await admin.xrange('swarm:{B}:dead', '-', '+')).map(([id]) => id);
    const attempts: [string, () => Promise<unknown>][] = [
      ['post', () => bus.post('B', 'secret-job', { data: 'from alice' })],
      ['post with an idempotency key', () => bus.post('B', 'secret-job', { idempotencyKey: 'k' })],
      ['postBatch', () => bus.postBatch('B', 'secret-job', [{}, {}])],
      ['readFindings', () => bus.readFindings('B')],
      ['lastFindingId', () => bus.lastFindingId('B')],
      ['findings$', () => firstValueFrom(bus.findings$('B'))],
      ['context.get', () => bus.context.get('B', secretContext)],
      ['context.put', () => bus.context.put('B', 'planted by alice')],
      ['publish', () => bus.publish('B', { type: 'note', summary: 'planted by alice' })],
      ['deadLetters', () => bus.deadLetters('B')],
      ['retryDeadLetter', () => bus.retryDeadLetter('B', deadLetterId as string)],
      ['cursors', () => bus.cursors('B')],
      ['status', () => bus.status('B')],
      ['registerShard', () => bus.registerShard('B', { id: 's', specialization: 'x' } as never)],
      ['raw XRANGE', async () => (await bus.redis()).xrange('swarm:{B}:findings', '-', '+')],
      [
        'raw PUBLISH',
        async () => (await bus.redis()).publish('swarm:{B}:findings', '{"prev":"0-0","findings":[]}'),
      ],
      [
        'raw SUBSCRIBE',
        async () => {
          const sub = ((await bus.redis()) as Redis).duplicate();
          try {
            await sub.subscribe('swarm:{B}:findings');
          } finally {
            sub.disconnect();
          }
        },
      ],
    ];
    const outcomes = await Promise.all(
      attempts.map(async ([name, attempt]) => {
        try {
          await attempt();
          return `${name}: allowed`;
        } catch (error) {
          return `${name}: ${String(error).match(NOPERM) ? 'NOPERM' : String(error)}`;
        }
      }),
    );
    expect(outcomes).toEqual(attempts.map(([name]) => `${name}: NOPERM`));
    expect(await snapshotB()).toEqual(before);
  });

  it('a consumer and a durable follower of B get nothing and fail with NOPERM', async () => {
    const before = await snapshotB();
    const bus = open(aliceUrl);
    const delivered: unknown[] = [];
    const errors: unknown[] = [];
    const observer = { next: (x: unknown) => delivered.push(x), error: (e: unknown) => errors.push(e) };
    const consumer = bus.consume('B', 'secret-job', { leaseMs: 200 }).subscribe(observer);
    const follower = bus.follow({ swarms: ['B'], name: 'spy' }).subscribe(observer);
    // A refusal is not retried: both Observables end with the NOPERM error, so the user hears of it.
    await until(async () => errors.length === 2, 'both readers to fail with NOPERM', LIMIT);
    consumer.unsubscribe();
    follower.unsubscribe();
    await bus.drain();
    expect(delivered).toEqual([]);
    for (const error of errors) expect(String(error)).toMatch(NOPERM);
    // B's task was never claimed (alice could not even create the consumer group) and no cursor
    // was stored for her.
    expect(await snapshotB()).toEqual(before);
  });

  it("a pattern follow ('*') gets every finding of A and nothing of B", async () => {
    const bus = open(aliceUrl);
    await bus.publish('A', { type: 'note', summary: 'for the pattern follower' });
    const inA = (await adminBus.readFindings('A')).map((f) => f.id);
    const seen: Finding[] = [];
    const errors: unknown[] = [];
    const deniedB = await denials(admin, 'alice', 'swarm:{B}:findings');
    const sub = bus
      .follow({ swarms: ['*'], discoverEveryMs: 50 })
      .subscribe({ next: (f) => seen.push(f), error: (e) => errors.push(e) });
    // PSUBSCRIBE 'swarm:{*}:findings' is refused (Redis matches a subscribed pattern against the
    // channel rules literally), so swarms are found by SCAN; B is found and refused.
    await until(
      async () =>
        errors.length > 0 ||
        (seen.length >= inA.length && (await denials(admin, 'alice', 'swarm:{B}:findings')) > deniedB),
      "A's findings and a refusal of B's",
      LIMIT,
    );
    sub.unsubscribe();
    expect(errors).toEqual([]);
    expect(seen.map((f) => f.id)).toEqual(inA);
    expect(await denials(admin, 'alice', 'swarm:{*}:findings')).toBeGreaterThan(0);
  });

  it('bob, with credentials for B, works in B and is refused A', async () => {
    const bus = open(bobUrl);
    const posted = await bus.post('B', 'bobs-job', { data: 'bob was here' });
    expect(posted.duplicate).toBe(false);
    await expect(bus.readFindings('A')).rejects.toThrow(NOPERM);
    await expect(bus.post('A', 'ask', {})).rejects.toThrow(NOPERM);
    await expect(bus.context.get('A', 'anything')).rejects.toThrow(NOPERM);
    await admin.del('swarm:{B}:tasks:bobs-job');
  });

  it("key names are not covered: SCAN lists every swarm's keys (Redis does not filter it by key pattern)", async () => {
    const bus = open(aliceUrl);
    // A limitation, not a read of B's data: alice learns that B exists, and its key names.
    expect(await bus.swarms()).toEqual(expect.arrayContaining(['A', 'B']));
    await expect(bus.status('B')).rejects.toThrow(NOPERM);
  });

  describe('the real CLI as alice', () => {
    const env = () => ({ SWARM_REDIS_URL: aliceUrl, SWARM_DEBUG: '' });
    const noLeak = (r: { stdout: string; stderr: string }) => {
      expect(r.stdout + r.stderr).not.toContain(ALICE_PW);
      expect(r.stderr).not.toMatch(STACK_LINE);
    };

    it('`swarm worker A <type> --once` works; `post`, `findings` and `dlq` on B exit 1 naming NOPERM', async () => {
      const posted = await swarmCli(['post', 'A', 'echo', '--data', '"hello from the CLI"'], { env: env() });
      expect(posted.code).toBe(0);
      const taskId = posted.stdout.trim();
      const worked = await swarmCli(['worker', 'A', 'echo', '--once', '--json'], { env: env() });
      expect(worked.code).toBe(0);
      expect(JSON.parse(worked.stdout)).toMatchObject({
        outcome: 'completed',
        summary: '"hello from the CLI"',
      });
      expect((await adminBus.readFindings('A')).map((f) => f.taskId)).toContain(taskId);
      noLeak(worked);

      const refused = await Promise.all([
        swarmCli(['post', 'B', 'echo', '--data', '"from alice"'], { env: env() }),
        swarmCli(['findings', 'B'], { env: env() }),
        swarmCli(['dlq', 'B', 'list'], { env: env() }),
        swarmCli(['context', 'get', 'B', secretContext], { env: env() }),
      ]);
      for (const r of refused) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^swarm: NOPERM /m);
        expect(r.stdout).not.toContain('B-only');
        noLeak(r);
      }
    });

    it('`swarm worker B <type> --once` never takes the waiting task of B, and exits 1 naming NOPERM', async () => {
      const before = await snapshotB();
      const quiet = await swarmCli(
        ['worker', 'B', 'secret-job', '--once', '--wait', '1', '--handler', 'echo'],
        {
          env: env(),
        },
      );
      // The refusal ends the worker at once, with the reason, at the default log level.
      expect(quiet.code).toBe(1);
      expect(quiet.stderr).toMatch(NOPERM);
      expect(quiet.stdout).not.toContain('B-only');
      noLeak(quiet);
      expect(await snapshotB()).toEqual(before);
    });
  });

  describe("roles from swarm acl: each does its job, and is refused the others' (issue #12)", () => {
    const PW = `role-pw-${process.pid}`;
    const user = (role: string) => `r-${role}`;
    const as = (role: string, args: string[]) =>
      swarmCli(args, { env: { SWARM_REDIS_URL: userUrl(user(role), PW), SWARM_DEBUG: '' } });
    let dir: string;
    let contextFile: string;
    let ref: string;
    const addDeadLetter = () =>
      admin.call(
        'XADD',
        'swarm:{R}:dead',
        '*',
        'type',
        'echo',
        'reason',
        'poison',
        'dead_at',
        '1',
        'errors',
        '[]',
        'entry',
        '{"task":"{\\"id\\":\\"d-r\\",\\"attempt\\":1,\\"created\\":1}"}',
      );
    /** Exit 1 and Redis's NOPERM in the message: refused by the ACL, not by the CLI. */
    const expectRefused = (r: { code: number | null; stdout: string; stderr: string }, what: string) => {
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(/^swarm: NOPERM /m);
      expect(r.stdout + r.stderr).not.toContain(PW);
    };
    const expectOk = (r: { code: number | null; stderr: string }, what: string) =>
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);

    beforeAll(async () => {
      for (const role of ['reader', 'poster', 'worker', 'admin'])
        await aclSetuser(admin, 'R', role, user(role), PW);
      dir = mkdtempSync(join(tmpdir(), 'swarm-roles-'));
      contextFile = join(dir, 'context.txt');
      writeFileSync(contextFile, 'the context of R');
      ref = await adminBus.context.put('R', 'read me');
      await adminBus.publish('R', { type: 'note', summary: 'a finding of R' });
      await addDeadLetter();
      await admin.hset('swarm:{R}:cursors', 'old-subscriber', '0-0');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a poster posts tasks and contexts and reads findings and status; it cannot work tasks, touch dead letters or subscribers', async () => {
      expectOk(await as('poster', ['post', 'R', 'echo', '--data', '"from the poster"']), 'post');
      expectOk(await as('poster', ['post', 'R', 'echo', '--idempotency-key', 'once']), 'post once');
      expectOk(await as('poster', ['context', 'put', 'R', contextFile]), 'context put');
      expectOk(await as('poster', ['findings', 'R']), 'findings');
      expectOk(await as('poster', ['status', 'R']), 'status');
      expect(await aclLog(admin, user('poster'))).toEqual([]);

      expectRefused(await as('poster', ['worker', 'R', 'echo', '--once', '--wait', '1']), 'worker --once');
      expectRefused(await as('poster', ['claim', 'R', 'echo', '--wait', '1']), 'claim');
      expectRefused(await as('poster', ['dlq', 'R', 'retry']), 'dlq retry');
      expectRefused(await as('poster', ['dlq', 'R', 'purge', '--yes']), 'dlq purge');
      expectRefused(await as('poster', ['unsubscribe', 'R', 'old-subscriber']), 'unsubscribe');
      expectRefused(await as('poster', ['post', 'A', 'echo']), 'post to another swarm');
    });

    it('a worker works tasks (worker --once, claim, fail to a dead letter); it cannot put contexts, forget subscribers or list swarms', async () => {
      await adminBus.postBatch('R', 'echo', [{ data: 'one' }, { data: 'two' }]);
      const worked = await as('worker', ['worker', 'R', 'echo', '--once', '--json']);
      expectOk(worked, 'worker --once');
      expect(JSON.parse(worked.stdout)).toMatchObject({ outcome: 'completed' });
      const claimed = await as('worker', ['claim', 'R', 'echo', '--json']);
      expectOk(claimed, 'claim');
      const { claim } = JSON.parse(claimed.stdout) as { claim: string };
      expectOk(await as('worker', ['renew', claim]), 'renew');
      expectOk(await as('worker', ['fail', claim, '--error', 'poison', '--no-retry']), 'fail');
      expect(await aclLog(admin, user('worker'))).toEqual([]);

      expectRefused(await as('worker', ['context', 'put', 'R', contextFile]), 'context put');
      expectRefused(await as('worker', ['unsubscribe', 'R', 'old-subscriber']), 'unsubscribe');
      expectRefused(await as('worker', ['status']), 'status of every swarm (SCAN)');
      expectRefused(
        await as('worker', ['worker', 'A', 'echo', '--once', '--wait', '1']),
        'work in another swarm',
      );
    });

    it('a reader reads (status, findings, a durable subscriber, dlq list, context get, cost); it cannot post, work, retry, purge or forget', async () => {
      for (const args of [
        ['status', 'R'],
        ['findings', 'R'],
        ['dlq', 'R', 'list'],
        ['context', 'get', 'R', ref],
        ['cost', 'R'],
      ])
        expectOk(await as('reader', args), args.join(' '));
      const follower = startSwarmCli(['findings', 'R', '--follow', '--subscriber', 'reader-sub'], {
        env: { SWARM_REDIS_URL: userUrl(user('reader'), PW) },
      });
      await until(
        async () => (await admin.hget('swarm:{R}:cursors', 'reader-sub')) !== null,
        "the reader's durable cursor",
        LIMIT,
      );
      follower.child.kill('SIGINT');
      expect(await follower.exited).toBe(0);
      expect(await aclLog(admin, user('reader'))).toEqual([]);
      // Every swarm's name shows (SCAN), but only R's state: the others are skipped with a note.
      const all = await as('reader', ['status']);
      expectOk(all, 'status of every swarm');
      expect(all.stdout).toMatch(/^R\s+waiting /m);
      expect(all.stderr).toContain('B: not readable with these credentials');

      expectRefused(await as('reader', ['post', 'R', 'echo']), 'post');
      expectRefused(await as('reader', ['context', 'put', 'R', contextFile]), 'context put');
      expectRefused(await as('reader', ['worker', 'R', 'echo', '--once', '--wait', '1']), 'worker --once');
      expectRefused(await as('reader', ['dlq', 'R', 'retry']), 'dlq retry');
      expectRefused(await as('reader', ['dlq', 'R', 'purge', '--yes']), 'dlq purge');
      expectRefused(await as('reader', ['unsubscribe', 'R', 'old-subscriber']), 'unsubscribe');
    });

    it('an admin retries and purges dead letters and forgets subscribers, in its swarm only', async () => {
      expectOk(await as('admin', ['dlq', 'R', 'retry']), 'dlq retry');
      await addDeadLetter();
      const purged = await as('admin', ['dlq', 'R', 'purge', '--yes', '--json']);
      expectOk(purged, 'dlq purge');
      expect(JSON.parse(purged.stdout)).toMatchObject({ swarm: 'R', purged: 1 });
      expect(await admin.xlen('swarm:{R}:dead')).toBe(0);
      expectOk(await as('admin', ['unsubscribe', 'R', 'old-subscriber']), 'unsubscribe');
      expect(await admin.hget('swarm:{R}:cursors', 'old-subscriber')).toBeNull();
      expect(await aclLog(admin, user('admin'))).toEqual([]);
      expectRefused(await as('admin', ['dlq', 'A', 'purge', '--yes']), 'purge in another swarm');
    });
  });
});

const hasTools =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTools)('TLS: rediss:// to a redis-server with a certificate made at test time', () => {
  let dir: string;
  let cert: string;
  let child: ChildProcess | undefined;
  let port: number;
  let url: string;
  const buses: RedisBus[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-tls-'));
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    port = await freePort();
    url = `rediss://127.0.0.1:${port}`;
    // TLS only: --port 0 closes the plain-text port.
    const proc = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    process.once('exit', () => proc.kill('SIGKILL'));
    const ca = readFileSync(cert);
    await until(
      async () => {
        if (proc.exitCode !== null) throw new Error('redis-server exited: was it built without TLS?');
        const probe = new Redis(url, {
          tls: { ca },
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      'the TLS redis-server to answer',
      LIMIT,
    );
  });

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a RedisBus round trip over rediss://, the CA given as an ioredis TLS option', async () => {
    const options = { url, redis: { tls: { ca: readFileSync(cert) } } };
    const shard = quietBus(options);
    const worker = quietBus(options);
    buses.push(shard, worker);
    expect(((await shard.redis()) as Redis).options.tls).toBeDefined();
    const live = firstValueFrom(shard.findings$('tls').pipe(take(2), toArray()));
    const followed = firstValueFrom(
      shard.follow({ swarms: ['tls'], name: 'reader' }).pipe(take(2), toArray()),
    );
    const context = await shard.context.put('tls', 'context over TLS');
    await shard.post('tls', 'ask', { data: 'question', context });
    const consumer = worker.consume('tls', 'ask').subscribe(async (d) => {
      const text = (await worker.context.get('tls', d.task.context as string)).toString();
      await d.complete({ summary: `${d.task.data} / ${text}` });
    });
    await shard.publish('tls', { type: 'note', summary: 'published over TLS' });
    const summaries = (fs: Finding[]) => fs.map((f) => f.summary).sort();
    const expected = ['published over TLS', 'question / context over TLS'];
    expect(summaries(await live)).toEqual(expected);
    expect(summaries(await followed)).toEqual(expected);
    consumer.unsubscribe();
    await worker.drain();
    await shard.flush();
    expect(Object.keys(await shard.cursors('tls'))).toEqual(['reader']);
  });

  it('verifies the certificate: without the CA the connection is refused', async () => {
    const bus = quietBus({ url, redis: { maxRetriesPerRequest: 0, retryStrategy: () => null } });
    buses.push(bus);
    let lastError = '';
    bus.connection.onError((e: Error) => {
      lastError = e.message;
    });
    await expect((await bus.redis()).ping()).rejects.toThrow();
    expect(lastError).toMatch(/self[- ]signed certificate/);
  });

  it('the CLI: post, worker --once and findings over rediss:// with NODE_EXTRA_CA_CERTS', async () => {
    const env = { SWARM_REDIS_URL: url, NODE_EXTRA_CA_CERTS: cert };
    const posted = await swarmCli(['post', 'tls-cli', 'echo', '--data', '"over TLS"', '--json'], { env });
    expect(posted.code).toBe(0);
    expect(posted.stderr).toContain(`transport: redis ${url}`);
    const { id } = JSON.parse(posted.stdout) as { id: string };
    const worked = await swarmCli(['worker', 'tls-cli', 'echo', '--once', '--json'], { env });
    expect(worked.code).toBe(0);
    const findings = await swarmCli(['findings', 'tls-cli', '--json'], { env });
    expect(findings.code).toBe(0);
    expect(JSON.parse(findings.stdout)).toMatchObject({ taskId: id, summary: '"over TLS"' });
  });

  it('the CLI says clearly when it cannot connect: no CA, or plain redis:// to the TLS port', async () => {
    const [noCa, plain] = await Promise.all([
      swarmCli(['status'], { env: { SWARM_REDIS_URL: url, SWARM_DEBUG: '' } }),
      swarmCli(['status'], { env: { SWARM_REDIS_URL: `redis://127.0.0.1:${port}`, SWARM_DEBUG: '' } }),
    ]);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toMatch(
      new RegExp(
        `^swarm: cannot reach Redis at rediss://127\\.0\\.0\\.1:${port}: self[- ]signed certificate`,
        'm',
      ),
    );
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      new RegExp(`^swarm: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`, 'm'),
    );
    for (const r of [noCa, plain]) expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
