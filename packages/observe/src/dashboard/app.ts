import { assertName, type Bus, SwarmError, splitPartitionedId, type Topology } from '@swarm/core';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { readEachSwarm } from '../readable-swarms';
import { accessControl } from './access';
import { DashboardRequestError } from './errors';
import { findingsStream } from './findings-stream';
import type { LiveRate } from './live-rate';
import { deadLetterView, swarmOverview } from './overview';
import { pageAssets } from './page-assets';
import { topologyGraph } from './topology-graph';

/** What `/metrics` answers with: a Prometheus scrape, rendered when asked. */
export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

export interface DashboardAppOptions {
  bus: Bus;
  /** The address the server listens on (loopback: Host is checked against DNS rebinding). */
  host: string;
  /** Required on every request when set. */
  token?: string;
  /** A topology file's swarms and subscriptions, drawn beside those Redis records. */
  topology?: Topology;
  metrics?: MetricsEndpoint;
  /** Findings per swarm a page that opens fresh is shown from before it opened (default 50). */
  recentFindings?: number;
  /** Findings per second and swarm a page is sent live before it is sent samples (default 200, bursts of 1,000). */
  liveRate?: LiveRate;
}

export interface DashboardApp {
  app: Hono;
  /** Ends every open findings stream (their browsers reconnect to whichever server is there next). */
  closeStreams(): void;
}

/** A thrown SwarmError's status: a bad name or task is the caller's, a missing dead letter is 404. */
function statusOf(error: SwarmError<string>): ContentfulStatusCode {
  if (error.code === 'SWARM_DEAD_LETTER_NOT_FOUND') return 404;
  if (['SWARM_INVALID_NAME', 'SWARM_INVALID_TASK', 'SWARM_DASHBOARD_BAD_REQUEST'].includes(error.code))
    return 400;
  return 500;
}

const DEAD_LETTER_PAGE = 1_000;

/**
 * The dashboard's routes: the page, its script and styles, the JSON under /api/ (everything the
 * page shows), the findings' event stream and /metrics. Serving it is server.ts's job.
 */
export function createDashboardApp(options: DashboardAppOptions): DashboardApp {
  const { bus } = options;
  const assets = pageAssets();
  const streams = new Set<() => void>();
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof SwarmError)
      return c.json({ error: error.message, code: error.code }, statusOf(error));
    // Nothing from the error's stack reaches the client; the message names what failed.
    return c.json({ error: `internal error: ${error.message}` }, 500);
  });
  app.notFound((c) => c.json({ error: `not found: ${c.req.path}` }, 404));
  app.use('*', accessControl({ host: options.host, token: options.token }));

  app.get('/', (c) => assets.respond(c, 'index.html'));
  app.get('/dashboard.js', (c) => assets.respond(c, 'dashboard.js'));
  app.get('/dashboard.css', (c) => assets.respond(c, 'dashboard.css'));

  app.get('/api/swarms', async (c) => c.json({ swarms: await bus.swarms() }));
  app.get('/api/overview', async (c) => {
    const { read, unreadable } = await readEachSwarm(await bus.swarms(), (s) => swarmOverview(bus, s));
    return c.json({ at: Date.now(), swarms: read.map(({ value }) => value), unreadable });
  });
  app.get('/api/swarms/:swarm', async (c) => c.json(await swarmOverview(bus, c.req.param('swarm'))));
  app.get('/api/swarms/:swarm/findings', async (c) => {
    const count = boundedCount(c, 'count', 100, 1_000);
    const after = c.req.query('after') ?? '0-0';
    if (!/^\d+-\d+$/.test(after))
      throw new DashboardRequestError(`after must be a stream id like 1700000000000-0, got ${after}`);
    return c.json({ findings: await bus.readFindings(c.req.param('swarm'), { after, count }) });
  });
  app.get('/api/swarms/:swarm/dead-letters', async (c) => {
    const letters = await bus.deadLetters(c.req.param('swarm'), { count: DEAD_LETTER_PAGE });
    return c.json({ deadLetters: letters.map(deadLetterView) });
  });
  app.post('/api/swarms/:swarm/dead-letters/purge', async (c) =>
    c.json({ purged: await bus.purgeDeadLetters(c.req.param('swarm')) }),
  );
  app.post('/api/swarms/:swarm/dead-letters/:id/retry', async (c) => {
    const id = c.req.param('id');
    // Redis refuses an id of another shape with an error of its own: say what is wanted (400), not 500.
    // A partitioned swarm's letter of partition p ≥ 1 is `p:<stream id>` (docs/PROTOCOL.md, Partitions).
    if (splitPartitionedId(id) === undefined)
      throw new DashboardRequestError(
        `a dead letter id is a stream id like 1700000000000-0 (2:1700000000000-0 in partition 2), got ${id}`,
      );
    const task = await bus.retryDeadLetter(c.req.param('swarm'), id);
    return c.json({ deadLetter: c.req.param('id'), taskId: task.id, type: task.type });
  });
  app.get('/api/topology', async (c) => {
    const { read } = await readEachSwarm(await bus.swarms(), (s) => bus.cursors(s));
    const cursors = new Map(read.map(({ swarm, value }) => [swarm, value] as const));
    return c.json(topologyGraph([...cursors.keys()], cursors, options.topology));
  });
  app.get('/api/findings/stream', (c) => {
    const only = c.req.queries('swarm');
    for (const swarm of only ?? []) assertName('swarm', swarm);
    return findingsStream(
      c,
      bus,
      {
        recent: boundedCount(c, 'recent', options.recentFindings ?? 50, 1_000),
        ...(options.liveRate ? { liveRate: options.liveRate } : {}),
        ...(only ? { swarms: only } : {}),
      },
      (close) => {
        streams.add(close);
        return () => streams.delete(close);
      },
    );
  });
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (c) =>
      c.body(await metrics.render(), 200, { 'content-type': metrics.contentType }),
    );
  }

  return {
    app,
    closeStreams() {
      for (const close of [...streams]) close();
    },
  };
}

/** A count from the query string: `fallback` when absent, at most `max`; a non-number is the caller's error. */
function boundedCount(c: Context, name: string, fallback: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new DashboardRequestError(`${name} must be a whole number, got ${raw}`);
  return Math.min(Number(raw), max);
}
