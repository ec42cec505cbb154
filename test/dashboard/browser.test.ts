import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, keys, RedisBus } from '@swarm/core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli';
import { freePort, useRedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { type DashboardProcess, startDashboardProcess } from './dashboard-process';

/** Debian's Chromium: Playwright cannot download its own browsers here (.ci/run installs it). */
const CHROMIUM = process.env.SWARM_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** The machine may be loaded: waits are generous, and only ever fail a test that is stuck. */
const PATIENCE_MS = 30_000;
/** Above a few waits of PATIENCE_MS, so a stuck test fails on the wait that names what it waited for. */
const TEST_TIMEOUT_MS = 120_000;
/**
 * The README's screenshot is this test's: `SWARM_UPDATE_SCREENSHOT=1 pnpm test test/dashboard`
 * rewrites it. Other runs still take it, into a temporary file, so a test run leaves the checkout clean.
 */
const SCREENSHOT =
  process.env.SWARM_UPDATE_SCREENSHOT === '1'
    ? join(ROOT, 'docs/dashboard.png')
    : join(tmpdir(), `swarm-dashboard-${process.pid}.png`);

let swarmCount = 0;
const uniqueSwarm = (prefix: string) => `${prefix}-${process.pid}-${++swarmCount}`;

/** One task taken and failed for good: a dead letter. */
async function deadLetter(bus: Bus, swarm: string, type: string, error: string): Promise<void> {
  await bus.post(swarm, type, { description: 'will fail', data: { url: 'https://example.org/a' } });
  const claim = await bus.claim(swarm, type, { waitMs: 5_000 });
  if (!claim) throw new Error('no task to claim');
  await bus.failClaim(claim.handle, error, { retry: false });
}

/** One Chromium for the file; each test opens its own context (cookies) and page, and closes them. */
function useBrowser(): { page(): Promise<Page> } {
  let browser: Browser | undefined;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set SWARM_TEST_CHROMIUM`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async page() {
      if (!browser) throw new Error('the browser starts in beforeAll');
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      opened.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(PATIENCE_MS);
      return page;
    },
  };
}

/** Dashboards started as processes by the test running now, stopped after it whatever happened. */
function useDashboards(): {
  start(options: Parameters<typeof startDashboardProcess>[0]): Promise<DashboardProcess>;
} {
  const started: DashboardProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });
  return {
    async start(options) {
      const dashboard = await startDashboardProcess(options);
      started.push(dashboard);
      return dashboard;
    },
  };
}

/** The cells of each task type's row in a swarm's card, by type. */
async function typeRows(page: Page, swarm: string): Promise<Record<string, string[]>> {
  const rows = page.locator(`article[data-swarm="${swarm}"] tbody tr`);
  const result: Record<string, string[]> = {};
  for (const row of await rows.all()) {
    const type = await row.getAttribute('data-type');
    if (type) result[type] = await row.locator('td').allTextContents();
  }
  return result;
}

/** The ids of a swarm's findings shown on the page, in page order. */
const shownFindings = (page: Page, swarm: string) =>
  page
    .locator(`#findings li[data-swarm="${swarm}"]`)
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-finding-id')));

const connection = (page: Page) => page.locator('#connection').getAttribute('data-state');

describe('swarm dashboard in Chromium: what the page shows', { timeout: TEST_TIMEOUT_MS }, () => {
  const redis = useRedisServer();
  const browser = useBrowser();
  const dashboards = useDashboards();
  let bus: RedisBus;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('shows every swarm with, per task type, waiting, in flight, delayed, consumers and oldest age', async () => {
    // Two swarms as a day's work leaves them; this describe's Redis holds nothing else, for the screenshot.
    await bus.postBatch('research', 'search', [
      { description: 'papers on Redis streams' },
      { description: 'consumer group benchmarks' },
    ]);
    await bus.postBatch('research', 'summarise', [{ description: 'paper 1' }, { description: 'paper 2' }]);
    expect(await bus.claim('research', 'summarise', { waitMs: 5_000 })).toBeDefined();
    await deadLetter(bus, 'research', 'fetch', 'HTTP 503 from https://example.org/a after 3 tries');
    // Failed once and retried with backoff: delayed, and nothing claims `fetch` again to promote it.
    await bus.post('research', 'fetch', { description: 'https://example.org/b' });
    const failing = await bus.claim('research', 'fetch', { waitMs: 5_000 });
    if (!failing) throw new Error('no fetch task to claim');
    await bus.failClaim(failing.handle, 'connection reset', { retry: true });
    await bus.post('digest', 'digest', { description: 'weekly digest' });

    const summaries = [
      [
        'research',
        'search',
        'Redis streams keep entries until trimmed; XAUTOCLAIM moves stale ones',
        ['redis'],
      ],
      [
        'research',
        'summarise',
        'Consumer groups deliver each entry to one consumer of the group',
        ['redis', 'queues'],
      ],
      ['research', 'note', 'Backoff with equal jitter spreads retries without coming back too soon', []],
      ['digest', 'digest', 'Digest: three findings on streams, groups and backoff this week', ['weekly']],
    ] as const;
    for (const [swarm, type, summary, tags] of summaries)
      await bus.publish(swarm, { type, summary, tags: [...tags] });
    const research = await bus.readFindings('research');
    const digest = await bus.readFindings('digest');
    const redisClient = await bus.redis();
    // The digest swarm's actor `weekly` follows research (an edge in the graph) and is one finding
    // behind; a durable CLI follower of digest is up to date.
    await redisClient.hset(keys.cursors('research'), 'digest.weekly', research[0]?.id ?? '0-0');
    await redisClient.hset(keys.cursors('digest'), 'ops-tail', digest.at(-1)?.id ?? '0-0');

    const dashboard = await dashboards.start({ redisUrl: redis.url });
    const page = await browser.page();
    await page.goto(dashboard.url);
    await page.locator('article[data-swarm="research"] tr[data-type="fetch"]').waitFor();
    await page.locator('article[data-swarm="digest"] tr[data-type="digest"]').waitFor();

    for (const swarm of ['research', 'digest']) {
      const status = await bus.status(swarm);
      const rows = await typeRows(page, swarm);
      expect(Object.keys(rows).sort()).toEqual(status.types.map((t) => t.type).sort());
      for (const t of status.types)
        expect(rows[t.type]?.slice(0, 5), `${swarm} ${t.type}`).toEqual([
          t.type,
          String(t.waiting),
          String(t.inFlight),
          String(t.delayed),
          String(t.consumers),
        ]);
    }
    const rows = await typeRows(page, 'research');
    expect(rows.search?.slice(1, 4)).toEqual(['2', '0', '0']);
    expect(rows.summarise?.slice(1, 4)).toEqual(['1', '1', '0']);
    expect(rows.fetch?.slice(1, 4)).toEqual(['0', '0', '1']);
    // The oldest waiting task's age, as 850ms, 12s, 3m or 2h.
    for (const type of ['search', 'summarise']) expect(rows[type]?.[5]).toMatch(/^\d+(ms|s|m|h)$/);
    expect((await typeRows(page, 'digest')).digest?.[5]).toMatch(/^\d+(ms|s|m|h)$/);

    const researchCard = page.locator('article[data-swarm="research"]');
    expect(await researchCard.locator('[data-dead-count]').textContent()).toBe('1 dead letter(s)');
    expect(await researchCard.locator('[data-subscriber="digest.weekly"]').textContent()).toContain(
      '2 finding(s) behind',
    );
    expect(
      await page.locator('article[data-swarm="digest"] [data-subscriber="ops-tail"]').textContent(),
    ).toContain('up to date');

    // The rest of the page, before the picture is taken: findings, the graph's edge, the dead letter.
    await until(
      async () => (await page.locator('#findings li').count()) === summaries.length,
      'every finding on the page',
      PATIENCE_MS,
    );
    await page.locator('[data-edge="research->digest"]').waitFor();
    await page.locator('[data-dead-swarm="research"] [data-retry]').waitFor();
    await until(
      async () => (await connection(page)) === 'live',
      'the findings stream to go live',
      PATIENCE_MS,
    );
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});

describe('swarm dashboard in Chromium: live findings and actions', { timeout: TEST_TIMEOUT_MS }, () => {
  const redis = useRedisServer();
  const browser = useBrowser();
  const dashboards = useDashboards();
  let bus: RedisBus;

  beforeAll(async () => {
    bus = new RedisBus({ url: redis.url });
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('shows a finding published after the page loaded, without a reload', async () => {
    const swarm = uniqueSwarm('live');
    await bus.publish(swarm, { type: 'note', summary: 'before the page' });
    const dashboard = await dashboards.start({ redisUrl: redis.url });
    const page = await browser.page();
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(dashboard.url);
    await until(
      async () => (await connection(page)) === 'live',
      'the findings stream to go live',
      PATIENCE_MS,
    );
    await page.locator(`#findings li[data-swarm="${swarm}"]`).waitFor();

    const published = await bus.publish(swarm, { type: 'note', summary: 'after the page', tags: ['late'] });
    const item = page.locator(`#findings li[data-finding-id="${published.id}"]`);
    await item.waitFor();
    expect(await item.locator('.summary').textContent()).toBe('after the pagelate');
    expect(await item.getAttribute('class')).toBe('new');
    expect(loads).toBe(1);
    expect(await shownFindings(page, swarm)).toHaveLength(2);
  });

  it('loses no finding and shows none twice when the dashboard process is killed and started again', async () => {
    const swarm = uniqueSwarm('restart');
    const port = await freePort();
    const published = async (summary: string) => (await bus.publish(swarm, { type: 'note', summary })).id;
    const ids = [await published('before 1'), await published('before 2')];
    let dashboard = await dashboards.start({ redisUrl: redis.url, port });
    const page = await browser.page();
    let refusedReconnects = 0;
    page.on('requestfailed', (request) => {
      if (
        request.url().includes('/api/findings/stream') &&
        /REFUSED/.test(request.failure()?.errorText ?? '')
      )
        refusedReconnects++;
    });
    await page.goto(dashboard.url);
    await until(
      async () => (await connection(page)) === 'live',
      'the findings stream to go live',
      PATIENCE_MS,
    );
    ids.push(await published('while up'));
    await until(
      async () => (await shownFindings(page, swarm)).length === ids.length,
      'the first three findings on the page',
      PATIENCE_MS,
    );

    await dashboard.kill();
    await until(
      async () => (await connection(page)) === 'reconnecting',
      'the page to see it go',
      PATIENCE_MS,
    );
    // More than the 50 recent findings a fresh page is sent: only a resume from the page's
    // Last-Event-ID shows them all.
    for (let i = 1; i <= 60; i++) ids.push(await published(`while down ${i}`));
    await until(() => refusedReconnects > 0, 'the page to try to reconnect, and be refused', PATIENCE_MS);
    dashboard = await dashboards.start({ redisUrl: redis.url, port });
    let shown: (string | null)[] = [];
    await until(
      async () => {
        shown = await shownFindings(page, swarm);
        return shown.length >= ids.length;
      },
      () => `all ${ids.length} findings on the page (shown: ${shown.length})`,
      PATIENCE_MS,
    );
    // A swarm's findings come in order: once this one is shown, anything sent again before it is too.
    ids.push(await published('after the restart'));
    await page.locator(`#findings li[data-finding-id="${ids.at(-1)}"]`).waitFor();

    shown = await shownFindings(page, swarm);
    expect(shown).toHaveLength(ids.length);
    expect([...shown].sort()).toEqual([...ids].sort());
    expect(await connection(page)).toBe('live');
  });

  it('retry moves a dead letter back onto its stream; purge empties them once confirmed', async () => {
    const swarm = uniqueSwarm('dead');
    await deadLetter(bus, swarm, 'fetch', 'HTTP 503 from upstream');
    const [letter] = await bus.deadLetters(swarm);
    const dashboard = await dashboards.start({ redisUrl: redis.url });
    const page = await browser.page();
    await page.goto(dashboard.url);

    await page.locator(`[data-dead-swarm="${swarm}"] [data-retry="${letter?.id}"]`).click();
    await until(
      async () => (await bus.deadLetters(swarm)).length === 0,
      'the dead letter to go',
      PATIENCE_MS,
    );
    expect((await bus.status(swarm)).types).toEqual([expect.objectContaining({ type: 'fetch', waiting: 1 })]);
    const task = await bus.claim(swarm, 'fetch', { waitMs: 5_000 });
    expect(task?.task.id).toBe(letter?.task?.id);
    await bus.failClaim(task?.handle ?? '', 'HTTP 503 again', { retry: false });
    await deadLetter(bus, swarm, 'fetch', 'HTTP 404 from upstream');

    const purge = page.locator(`[data-dead-swarm="${swarm}"] [data-purge]`);
    await page.locator(`[data-dead-swarm="${swarm}"] [data-dead-letter]`).nth(1).waitFor();
    // Asked first: cancelled, nothing goes.
    page.once('dialog', (dialog) => dialog.dismiss());
    await purge.click();
    expect(await bus.deadLetters(swarm)).toHaveLength(2);
    page.once('dialog', (dialog) => dialog.accept());
    await purge.click();
    await until(async () => (await bus.deadLetters(swarm)).length === 0, 'the purge', PATIENCE_MS);
    await page
      .locator(`[data-dead-swarm="${swarm}"] .notice`, { hasText: 'purged 2 dead letter(s)' })
      .waitFor();
  });

  it('with --token, refuses the page without it (401) and loads it with ?token=', async () => {
    const swarm = uniqueSwarm('token');
    await bus.post(swarm, 'search', { description: 'one' });
    const token = 'a-secret-for-the-browser-test';
    const dashboard = await dashboards.start({ redisUrl: redis.url, token });
    const page = await browser.page();
    const refused = await page.goto(dashboard.url);
    expect(refused?.status()).toBe(401);
    expect(await page.locator('body').textContent()).toContain('unauthorized');

    const visit = await page.goto(`${dashboard.url}?token=${token}`);
    expect(visit?.status()).toBe(200);
    // The token is dropped from the address once the cookie holds it.
    expect(page.url()).toBe(dashboard.url);
    await page.locator(`article[data-swarm="${swarm}"] tr[data-type="search"]`).waitFor();
    await until(
      async () => (await connection(page)) === 'live',
      'the findings stream to go live',
      PATIENCE_MS,
    );
  });
});
