import type { Bus, TaskCounters } from '@swarm/core';
import { Counter, Registry } from 'prom-client';
import type { MetricsEndpoint } from '../dashboard/app';
import { readEachSwarm } from '../readable-swarms';
import { METRICS, TASK_LABELS } from './metric-names';
import { swarmGauges } from './swarm-gauges';

export interface ScrapeOptions {
  /** The swarms to read (default: every swarm the bus finds, at each scrape). */
  swarms?: string[];
}

const COUNTED = ['posted', 'completed', 'failed', 'deadLettered', 'reclaimed'] as const;

/**
 * A fresh registry of what every process did to every swarm, read from Redis now: the counters
 * the scripts keep (Bus.counters), so three posts from three CLI calls read 3, and the queues'
 * and subscribers' state. No process-local state: any number of dashboards agree.
 */
export async function scrapeSwarms(bus: Bus, options: ScrapeOptions = {}): Promise<Registry> {
  const registry = new Registry();
  const gauges = swarmGauges(registry, { inFlight: true });
  let counted: { swarm: string; types: TaskCounters[] }[];
  if (options.swarms) {
    const named = options.swarms;
    [counted] = await Promise.all([
      Promise.all(named.map(async (swarm) => ({ swarm, types: await bus.counters(swarm) }))),
      gauges.read(bus, named),
    ]);
  } else {
    // Every swarm: those these credentials may read (readable-swarms.ts).
    const { read } = await readEachSwarm(await bus.swarms(), (swarm) => bus.counters(swarm));
    counted = read.map(({ swarm, value }) => ({ swarm, types: value }));
    await gauges.read(
      bus,
      counted.map((c) => c.swarm),
    );
  }
  const counters = Object.fromEntries(
    COUNTED.map((key) => [
      key,
      new Counter({ ...METRICS[key], labelNames: TASK_LABELS, registers: [registry] }),
    ]),
  ) as Record<(typeof COUNTED)[number], Counter<(typeof TASK_LABELS)[number]>>;
  const cost = new Counter({ ...METRICS.costUsd, labelNames: TASK_LABELS, registers: [registry] });
  for (const { swarm, types } of counted)
    for (const t of types) {
      const labels = { swarm, type: t.type };
      for (const key of COUNTED) counters[key].inc(labels, t[key]);
      // Only where known: a type no model worker reported a cost for has no cost series.
      if (t.costUsd > 0) cost.inc(labels, t.costUsd);
    }
  return registry;
}

/** `/metrics` for the dashboard: each scrape reads every swarm's state from Redis. */
export function swarmMetricsEndpoint(bus: Bus, options: ScrapeOptions = {}): MetricsEndpoint {
  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    render: async () => (await scrapeSwarms(bus, options)).metrics(),
  };
}
