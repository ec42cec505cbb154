import { type Bus, keys, parseTopology, RedisBus } from '@swarm/core';
import { type Dashboard, startDashboard, swarmMetricsEndpoint } from '@swarm/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { openEventStream } from './event-stream';

let swarmCount = 0;
const uniqueSwarm = (prefix = 'dash') => `${prefix}-${process.pid}-${++swarmCount}`;

/** One task taken and failed for good: a dead letter with its error. */
async function deadLetter(bus: Bus, swarm: string, type: string, error: string): Promise<string> {
  const posted = await bus.post(swarm, type, { description: 'will fail', data: { n: 1 } });
  const claim = await bus.claim(swarm, type, { waitMs: 5_000 });
  if (!claim) throw new Error('no task to claim');
  await bus.failClaim(claim.handle, error, { retry: false });
  return posted.id;
}

describe('swarm dashboard: the JSON API', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let dashboard: Dashboard;
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, dashboard.url), init);
  const post = (path: string) =>
    fetch(new URL(path, dashboard.url), { method: 'POST', headers: { 'x-swarm-dashboard': '1' } });

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    dashboard = await startDashboard({ bus, port: 0, recentFindings: 3 });
  });
  afterAll(async () => {
    await dashboard?.close();
    await bus?.close();
  });

  it('/api/overview: every swarm, per task type waiting, in flight, delayed, consumers and oldest age', async () => {
    const swarm = uniqueSwarm();
    await bus.post(swarm, 'research', { description: 'one' });
    await bus.post(swarm, 'research', { description: 'two' });
    await bus.post(swarm, 'summarise', { description: 'three' });
    const claim = await bus.claim(swarm, 'summarise', { waitMs: 5_000 });
    expect(claim).toBeDefined();

    const response = await get('/api/overview');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { swarms: { swarm: string; types: Record<string, unknown>[] }[] };
    const mine = body.swarms.find((s) => s.swarm === swarm);
    expect(mine?.types).toEqual([
      expect.objectContaining({ type: 'research', waiting: 2, inFlight: 0, delayed: 0 }),
      expect.objectContaining({ type: 'summarise', waiting: 0, inFlight: 1, delayed: 0, consumers: 1 }),
    ]);
    for (const type of mine?.types ?? []) expect(type.oldestAgeMs).toBeGreaterThan(0);
    expect(((await (await get('/api/swarms')).json()) as { swarms: string[] }).swarms).toContain(swarm);
  });

  it('durable subscribers and how many findings each is behind; spend and budget from the ledger', async () => {
    const swarm = uniqueSwarm();
    for (let i = 0; i < 5; i++) await bus.publish(swarm, { type: 'note', summary: `note ${i}` });
    const findings = await bus.readFindings(swarm);
    // One subscriber has taken two findings; another is up to date.
    const redisClient = await bus.redis();
    await redisClient.hset(
      keys.cursors(swarm),
      'reader-a',
      findings[1]?.id ?? '',
      'reader-b',
      findings[4]?.id ?? '',
    );
    const budgets = [{ name: 'swarm', usd: 5 }];
    await bus.ledger.reserve(swarm, {
      holder: 'ask/1-0',
      usd: 0.01,
      tokens: 10,
      budgets,
      rates: [],
      holdMs: 60_000,
    });
    await bus.ledger.settle(swarm, {
      holder: 'ask/1-0',
      usd: 0.25,
      tokens: 1_200,
      budgets: ['swarm'],
      rates: [],
    });

    const body = (await (await get(`/api/swarms/${swarm}`)).json()) as Record<string, unknown>;
    expect(body.subscribers).toEqual([
      { name: 'reader-a', cursor: findings[1]?.id, behind: 3, atLeast: false },
      { name: 'reader-b', cursor: findings[4]?.id, behind: 0, atLeast: false },
    ]);
    expect(body.costUsd).toBeCloseTo(0.25);
    expect(body.budgets).toEqual([
      expect.objectContaining({
        name: 'swarm',
        spentUsd: 0.25,
        spentTokens: 1_200,
        limitUsd: 5,
        leftUsd: 4.75,
      }),
    ]);
  });

  it('/api/swarms/<swarm>/findings pages after an id; bad input is a 400 naming it', async () => {
    const swarm = uniqueSwarm();
    for (let i = 0; i < 4; i++) await bus.publish(swarm, { type: 'note', summary: `note ${i}` });
    const first = (await (await get(`/api/swarms/${swarm}/findings?count=2`)).json()) as {
      findings: { id: string; summary: string }[];
    };
    expect(first.findings.map((f) => f.summary)).toEqual(['note 0', 'note 1']);
    const next = (await (
      await get(`/api/swarms/${swarm}/findings?after=${first.findings[1]?.id}`)
    ).json()) as {
      findings: { summary: string }[];
    };
    expect(next.findings.map((f) => f.summary)).toEqual(['note 2', 'note 3']);

    const badId = await get(`/api/swarms/${swarm}/findings?after=yesterday`);
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: string }).error).toContain('after must be a stream id');
    const badName = await get('/api/swarms/no%20such%20swarm!');
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { error: string }).error).toContain('invalid swarm name');
    expect((await get('/api/nothing-here')).status).toBe(404);
  });

  it('dead letters with their error history; retry moves one back onto its stream, purge empties them', async () => {
    const swarm = uniqueSwarm();
    const taskId = await deadLetter(bus, swarm, 'fetch', 'HTTP 503 from upstream');
    await deadLetter(bus, swarm, 'fetch', 'HTTP 404 from upstream');
    const list = (await (await get(`/api/swarms/${swarm}/dead-letters`)).json()) as {
      deadLetters: { id: string; task: { id: string }; errors: { message: string }[]; raw?: unknown }[];
    };
    expect(list.deadLetters).toHaveLength(2);
    const letter = list.deadLetters.find((d) => d.task.id === taskId);
    expect(letter?.errors.map((e) => e.message)).toEqual(['HTTP 503 from upstream']);
    expect(letter?.raw).toBeUndefined();

    const retried = await post(`/api/swarms/${swarm}/dead-letters/${letter?.id}/retry`);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ deadLetter: letter?.id, taskId, type: 'fetch' });
    expect((await bus.status(swarm)).types).toEqual([expect.objectContaining({ type: 'fetch', waiting: 1 })]);
    expect(await bus.deadLetters(swarm)).toHaveLength(1);
    const again = await post(`/api/swarms/${swarm}/dead-letters/${letter?.id}/retry`);
    expect(again.status).toBe(404);
    const notAnId = await post(`/api/swarms/${swarm}/dead-letters/yesterday/retry`);
    expect(notAnId.status).toBe(400);
    expect(((await notAnId.json()) as { error: string }).error).toContain('a dead letter id is a stream id');

    const purged = await post(`/api/swarms/${swarm}/dead-letters/purge`);
    expect(await purged.json()).toEqual({ purged: 1 });
    expect(await bus.deadLetters(swarm)).toEqual([]);
  });

  it('a request that changes something without the dashboard header is refused, and changes nothing', async () => {
    const swarm = uniqueSwarm();
    await deadLetter(bus, swarm, 'fetch', 'boom');
    // What a cross-site form could send: no custom header (one would need a preflight).
    const response = await fetch(new URL(`/api/swarms/${swarm}/dead-letters/purge`, dashboard.url), {
      method: 'POST',
    });
    expect(response.status).toBe(403);
    expect(await bus.deadLetters(swarm)).toHaveLength(1);
  });

  it('on loopback, a Host naming another machine is refused (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        new URL('/api/swarms', dashboard.url),
        { headers: { host: 'evil.example:7777' } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('/api/findings/stream: event ids are stream ids; Last-Event-ID resumes after it with nothing missed', async () => {
    const swarm = uniqueSwarm('stream');
    for (let i = 0; i < 5; i++) await bus.publish(swarm, { type: 'note', summary: `before ${i}` });
    const all = await bus.readFindings(swarm);
    // A fresh client is sent the newest `recentFindings` (3) of each swarm, then what comes.
    const fresh = await openEventStream(new URL(`/api/findings/stream?swarm=${swarm}`, dashboard.url));
    try {
      await fresh.waitFor((events) => events.some((e) => e.event === 'live'), 'the stream to go live');
      await bus.publish(swarm, { type: 'note', summary: 'live' });
      await fresh.waitFor(() => fresh.findings().length >= 4, 'four findings');
      expect(fresh.findings().map((f) => f.summary)).toEqual(['before 2', 'before 3', 'before 4', 'live']);
      for (const e of fresh.events.filter((e) => e.event === 'finding'))
        expect(e.id).toBe(JSON.parse(e.data ?? '{}').id);
    } finally {
      await fresh.close();
    }

    // A client that saw "before 1" resumes after it (and the grace before it, which it drops by id).
    const resumed = await openEventStream(new URL(`/api/findings/stream?swarm=${swarm}`, dashboard.url), {
      'last-event-id': all[1]?.id ?? '',
    });
    try {
      await resumed.waitFor(
        () => resumed.findings().some((f) => f.summary === 'live'),
        'the resumed stream to reach "live"',
      );
      const ids = resumed.findings().map((f) => f.id);
      for (const id of [all[2]?.id, all[3]?.id, all[4]?.id]) expect(ids).toContain(id);
    } finally {
      await resumed.close();
    }
  });

  it('/api/findings/stream: a partitioned swarm resumes from a p:<id> Last-Event-ID with nothing missed', async () => {
    const swarm = uniqueSwarm('parts');
    await bus.declarePartitions(swarm, 'work', 3);
    const done: string[] = [];
    const consuming = bus
      .consume(swarm, 'work', { partitions: 3, concurrency: 4, blockMs: 50 })
      .subscribe((d) => {
        void d.complete({ summary: `done ${String(d.task.data)}` }).then(() => done.push(d.task.id));
      });
    try {
      const post = async (from: number) => {
        const posted = await Promise.all(
          Array.from({ length: 6 }, (_, i) => bus.post(swarm, 'work', { data: from + i })),
        );
        await until(() => posted.every((p) => done.includes(p.id)), 'the tasks completed', 20_000);
        return posted.map((p) => p.id);
      };
      await post(0);
      const before = await bus.readFindings(swarm, { count: 100 });
      // The last id a page saw, in partition 1 or 2: `p:<stream id>`.
      const seen = before.filter((f) => /^\d+:/.test(f.id)).at(-1);
      expect(seen).toBeDefined();
      const later = await post(100);
      const resumed = await openEventStream(new URL(`/api/findings/stream?swarm=${swarm}`, dashboard.url), {
        'last-event-id': seen?.id ?? '',
      });
      try {
        await resumed.waitFor(
          () => later.every((id) => resumed.findings().some((f) => (f as { taskId?: string }).taskId === id)),
          'every finding after the resume point',
        );
        const ids = resumed.findings().map((f) => f.id);
        expect(new Set(ids).size).toBe(ids.length);
      } finally {
        await resumed.close();
      }
    } finally {
      consuming.unsubscribe();
    }
  });

  it('/api/findings/stream: a swarm faster than the live rate gets a gap event and samples, then live again', async () => {
    const swarm = uniqueSwarm('flood');
    const limited = await startDashboard({ bus, port: 0, liveRate: { perSecond: 20, burst: 50 } });
    const stream = await openEventStream(new URL(`/api/findings/stream?swarm=${swarm}`, limited.url));
    try {
      await stream.waitFor((events) => events.some((e) => e.event === 'live'), 'the stream to go live');
      // 2,000 at once: far past a burst of 50 however slowly this machine publishes them.
      await Promise.all(
        Array.from({ length: 2_000 }, (_, i) => bus.publish(swarm, { type: 'note', summary: `flood ${i}` })),
      );
      await stream.waitFor((events) => events.some((e) => e.event === 'gap'), 'a gap event');
      const all = await bus.readFindings(swarm, { count: 5_000 });
      const gapAt = stream.events.findIndex((e) => e.event === 'gap');
      const gap = JSON.parse(stream.events[gapAt]?.data ?? '{}') as {
        swarm: string;
        after: string;
        before: string;
      };
      // Before the gap, every finding in order from the first: nothing skipped while live.
      const live = stream.events
        .slice(0, gapAt)
        .filter((e) => e.event === 'finding')
        .map((e) => e.id);
      expect(live.length).toBeGreaterThanOrEqual(50);
      expect(live).toEqual(all.slice(0, live.length).map((f) => f.id));
      expect(gap).toEqual({ swarm, after: live.at(-1), before: expect.stringMatching(/^\d+-\d+$/) });
      // After it, a sample of the newest, each once.
      await stream.waitFor(
        (events) => events.slice(gapAt).some((e) => e.event === 'finding'),
        'the sample after the gap',
      );
      const ids = stream.events.filter((e) => e.event === 'finding').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThan(2_000);

      // Once the flood is over, findings come live again.
      await stream.waitFor(
        () => stream.findings().some((f) => f.id === all.at(-1)?.id),
        'the newest sampled',
      );
      const after = await bus.publish(swarm, { type: 'note', summary: 'after the flood' });
      await stream.waitFor(
        () => stream.findings().some((f) => f.id === after.id),
        'the finding after the flood',
      );
    } finally {
      await stream.close();
      await limited.close();
    }
  });

  it('/api/topology: subscriptions from the cursors Redis holds and from a topology file', async () => {
    const source = uniqueSwarm('src');
    const sink = uniqueSwarm('sink');
    await bus.publish(source, { type: 'note', summary: 'x' });
    await bus.publish(sink, { type: 'note', summary: 'y' });
    const redisClient = await bus.redis();
    // An actor `digest` of swarm sink follows swarm source; a CLI follower `ops-tail` too.
    await redisClient.hset(keys.cursors(source), `${sink}.digest`, '0-0', 'ops-tail', '0-0');
    const { topology } = parseTopology(
      `swarms:\n  ${sink}:\n    actors:\n      - name: digest\n        module: ./digest.ts\n        subscribe:\n          - swarms: ['${source}']\n  planned:\n    shards:\n      - id: reader\n        subscribe:\n          - swarms: ['${sink}']\n`,
      'topology.yaml',
      { offline: true },
    );
    const withFile = await startDashboard({ bus, port: 0, topology });
    try {
      const graph = (await (await fetch(new URL('/api/topology', withFile.url))).json()) as {
        nodes: { id: string; kind: string; live: boolean }[];
        edges: { from: string; to: string; subscriber: string; seen: string }[];
      };
      expect(graph.nodes).toEqual(
        expect.arrayContaining([
          { id: source, kind: 'swarm', live: true },
          { id: sink, kind: 'swarm', live: true },
          { id: 'planned', kind: 'swarm', live: false },
          { id: 'ops-tail', kind: 'subscriber', live: true },
        ]),
      );
      expect(graph.edges).toEqual(
        expect.arrayContaining([
          { from: source, to: sink, subscriber: `${sink}.digest`, seen: 'both' },
          { from: source, to: 'ops-tail', subscriber: 'ops-tail', seen: 'redis' },
          { from: sink, to: 'planned', subscriber: 'planned.reader', seen: 'topology' },
        ]),
      );
    } finally {
      await withFile.close();
    }
  });
});

describe('swarm dashboard: credentials for one swarm', () => {
  const redis = useRedisServer();

  it('shows the swarms its Redis user may read and names the others, in /api/ and /metrics alike', async () => {
    const admin = new RedisBus({ url: redis.url });
    const own = uniqueSwarm('own');
    const other = uniqueSwarm('other');
    await admin.post(own, 'research', { description: 'mine' });
    await admin.post(other, 'research', { description: 'not mine' });
    await admin.publish(other, { type: 'note', summary: 'theirs' });
    // What a swarm's own user gets: its keys and channels only (swarm acl's rules, in short).
    await (await admin.redis()).call(
      'ACL',
      'SETUSER',
      'one-swarm',
      'on',
      '>secret-pw',
      'resetkeys',
      `~swarm:{${own}}:*`,
      'resetchannels',
      `&swarm:{${own}}:*`,
      '+@all',
    );
    const url = new URL(redis.url);
    url.username = 'one-swarm';
    url.password = 'secret-pw';
    const bus = new RedisBus({ url: url.toString() });
    const limited = await startDashboard({ bus, port: 0, metrics: swarmMetricsEndpoint(bus) });
    try {
      const overview = await fetch(new URL('/api/overview', limited.url));
      expect(overview.status).toBe(200);
      const body = (await overview.json()) as { swarms: { swarm: string }[]; unreadable: string[] };
      expect(body.swarms.map((s) => s.swarm)).toEqual([own]);
      expect(body.unreadable).toEqual([other]);
      const topology = await fetch(new URL('/api/topology', limited.url));
      expect(topology.status).toBe(200);
      const metrics = await fetch(new URL('/metrics', limited.url));
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain(`swarm_tasks_posted_total{swarm="${own}",type="research"} 1`);
      expect(text).not.toContain(other);
    } finally {
      await limited.close();
      await bus.close();
      await admin.close();
    }
  });
});

describe('swarm dashboard: the token', () => {
  const redis = useRedisServer();
  let bus: RedisBus;
  let dashboard: Dashboard;
  const token = 's3cret-token-for-the-test';

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
    dashboard = await startDashboard({ bus, port: 0, token });
  });
  afterAll(async () => {
    await dashboard?.close();
    await bus?.close();
  });

  it('refuses every request without it (401), the page and /api/ alike', async () => {
    for (const path of ['/', '/dashboard.js', '/api/swarms', '/api/findings/stream'])
      expect((await fetch(new URL(path, dashboard.url))).status, path).toBe(401);
    const wrong = await fetch(new URL('/api/swarms', dashboard.url), {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(token);
  });

  it('takes it as a bearer token, or once as ?token= which sets an HttpOnly cookie and drops it from the address', async () => {
    const bearer = await fetch(new URL('/api/swarms', dashboard.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bearer.status).toBe(200);

    const visit = await fetch(new URL(`/?token=${token}`, dashboard.url), { redirect: 'manual' });
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe('/');
    const cookie = visit.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    // The cookie is a digest of the token, not the token.
    expect(cookie).not.toContain(token);
    const page = await fetch(new URL('/', dashboard.url), {
      headers: { cookie: cookie.split(';')[0] ?? '' },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>swarm dashboard</title>');
  });

  it('refuses to start beyond loopback without one', async () => {
    await expect(startDashboard({ bus, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'SWARM_DASHBOARD_TOKEN_REQUIRED',
    });
  });

  it('refuses to start with an empty one, which an empty ?token= would match', async () => {
    for (const empty of ['', ' '])
      await expect(startDashboard({ bus, host: '0.0.0.0', port: 0, token: empty })).rejects.toMatchObject({
        code: 'SWARM_DASHBOARD_TOKEN_EMPTY',
      });
  });
});
