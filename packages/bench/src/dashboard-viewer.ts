/**
 * What an open dashboard page and a Prometheus server do to a swarm, only more often: the page's
 * findings stream (Server-Sent Events: every finding up to the dashboard's live rate, then
 * samples), its polls of /api/overview every 2 s and /api/topology every 5 s, and a scrape of the
 * dashboard's /metrics (read from Redis) and of the worker's own /metrics every second. Counts what it got and what failed, so a round that watched
 * nothing shows.
 */

/** The page's intervals (packages/observe/src/dashboard/dashboard-page/dashboard.js). */
const OVERVIEW_EVERY_MS = 2_000;
const TOPOLOGY_EVERY_MS = 5_000;
/** 15x Prometheus's default scrape interval, so its cost shows. */
const SCRAPE_EVERY_MS = 1_000;

export interface ViewerCounts {
  /** `finding` events the stream delivered. */
  findings: number;
  polls: number;
  scrapes: number;
  failures: number;
  /** The first failure's message, for the round's log. */
  firstFailure?: string;
}

export function startDashboardViewer(options: { dashboardUrl: string; workerMetricsUrl: string }) {
  const counts: ViewerCounts = { findings: 0, polls: 0, scrapes: 0, failures: 0 };
  const controller = new AbortController();
  const failed = (error: unknown) => {
    if (controller.signal.aborted) return;
    counts.failures++;
    counts.firstFailure ??= error instanceof Error ? error.message : String(error);
  };
  const get = async (path: string, base = options.dashboardUrl) => {
    const response = await fetch(new URL(path, base), { signal: controller.signal });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.text();
  };
  const every = (ms: number, work: () => Promise<unknown>) =>
    (async () => {
      while (!controller.signal.aborted) {
        await work().catch(failed);
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
    })();

  const streaming = (async () => {
    const response = await fetch(new URL('/api/findings/stream', options.dashboardUrl), {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`findings stream: HTTP ${response.status}`);
    const decoder = new TextDecoder();
    // A line of its own (a data line holds JSON, which has no raw newline); the stream opens with
    // a `hello` event, so every finding's field follows a newline.
    const field = '\nevent: finding\n';
    let buffer = '';
    // Counted, not parsed: the browser's parsing is the browser's cost, not the swarm's.
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let at = buffer.indexOf(field); at >= 0; at = buffer.indexOf(field, at + 1)) counts.findings++;
      buffer = buffer.slice(Math.max(0, buffer.length - field.length + 1));
    }
  })().catch(failed);
  const loops = [
    every(OVERVIEW_EVERY_MS, async () => {
      await get('/api/overview');
      counts.polls++;
    }),
    every(TOPOLOGY_EVERY_MS, async () => {
      await get('/api/topology');
      counts.polls++;
    }),
    every(SCRAPE_EVERY_MS, async () => {
      await Promise.all([get('/metrics'), get('/metrics', options.workerMetricsUrl)]);
      counts.scrapes++;
    }),
  ];
  return {
    counts,
    async stop(): Promise<ViewerCounts> {
      controller.abort();
      await Promise.all([streaming, ...loops]);
      return counts;
    },
  };
}
