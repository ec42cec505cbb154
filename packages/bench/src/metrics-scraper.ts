import type { Bus } from '@swarm/core';
import { scrapeSwarms } from '@swarm/observe';

/**
 * What a Prometheus server does to a swarm, only more often: every `everyMs` it reads a process's
 * /metrics over HTTP and the swarm-wide metrics from Redis (what the dashboard's /metrics
 * serves). Counts the scrapes and their failures, so a round that scraped nothing shows.
 */
export function startMetricsScraper(options: { bus: Bus; swarm: string; url: string; everyMs: number }) {
  const counts = { scrapes: 0, failures: 0, bytes: 0 };
  let stopped = false;
  const scrapeOnce = async () => {
    try {
      const [own, swarmWide] = await Promise.all([
        fetch(options.url).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`)))),
        scrapeSwarms(options.bus, { swarms: [options.swarm] }).then((registry) => registry.metrics()),
      ]);
      counts.scrapes++;
      counts.bytes += own.length + swarmWide.length;
    } catch {
      counts.failures++;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await scrapeOnce();
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
    }
  })();
  return {
    counts,
    async stop(): Promise<typeof counts> {
      stopped = true;
      await loop;
      return counts;
    },
  };
}
