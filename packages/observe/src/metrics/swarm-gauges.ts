import type { Bus } from '@swarm/core';
import { Gauge, type Registry } from 'prom-client';
import { subscriberLag } from '../dashboard/overview';
import { LAG_LABELS, METRICS, TASK_LABELS } from './metric-names';

/**
 * Gauges of a swarm's state as Redis holds it when scraped: tasks waiting per type and how far
 * each durable subscriber is behind, and (for the swarm-wide scrape) tasks in flight per type.
 */
export interface SwarmGauges {
  /** Reads each swarm's status and cursors and sets the gauges (cleared first). */
  read(bus: Bus, swarms: string[]): Promise<void>;
}

export function swarmGauges(registry: Registry, options: { inFlight: boolean }): SwarmGauges {
  const waiting = new Gauge({ ...METRICS.waiting, labelNames: TASK_LABELS, registers: [registry] });
  const inFlight = options.inFlight
    ? new Gauge({ ...METRICS.inFlight, labelNames: TASK_LABELS, registers: [registry] })
    : undefined;
  const lag = new Gauge({ ...METRICS.subscriberLag, labelNames: LAG_LABELS, registers: [registry] });
  return {
    async read(bus, swarms) {
      const states = await Promise.all(
        swarms.map(async (swarm) => {
          const status = await bus.status(swarm);
          const lags = await Promise.all(
            status.subscribers.map((s) => subscriberLag(bus, swarm, s, status.lastFinding)),
          );
          return { swarm, status, lags };
        }),
      );
      waiting.reset();
      inFlight?.reset();
      lag.reset();
      for (const { swarm, status, lags } of states) {
        for (const t of status.types) {
          waiting.set({ swarm, type: t.type }, t.waiting);
          inFlight?.set({ swarm, type: t.type }, t.inFlight);
        }
        for (const l of lags) lag.set({ swarm, subscriber: l.name }, l.behind);
      }
    },
  };
}
