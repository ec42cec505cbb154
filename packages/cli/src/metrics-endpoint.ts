import type { Bus, BusEvents } from '@swarm/core';
import { MetricsAddressError, ProcessMetrics, parseMetricsAddress, serveMetrics } from '@swarm/observe';
import type { CommandInput, OptionInfo } from './command';
import { UsageError } from './errors';

/** `--metrics` as `run` and `worker` take it. */
export const metricsOption: OptionInfo = {
  type: 'string',
  value: '<[host:]port>',
  description: "serve this process's Prometheus metrics at /metrics (a bare port: every interface)",
};

export interface MetricsEndpointHandle {
  /** Pass to the bus: its posts, deliveries and settlements are what the endpoint counts. */
  events: BusEvents;
  /** Also shows these swarms' queues and subscribers, read from the bus when scraped. */
  watch(bus: Bus, swarms: string[]): void;
}

/**
 * Serves `/metrics` when `--metrics` was given (undefined otherwise: no registry, no events, no
 * cost). Opened before the bus, so a bad or taken port is said before anything runs; the server
 * does not hold the process open, so it ends with the verb.
 */
export async function startMetricsEndpoint(input: CommandInput): Promise<MetricsEndpointHandle | undefined> {
  const value = input.values.metrics;
  if (value === undefined) return undefined;
  let address: { port: number; host?: string };
  try {
    address = parseMetricsAddress(String(value));
  } catch (error) {
    if (error instanceof MetricsAddressError) throw new UsageError(error.message);
    throw error;
  }
  const metrics = new ProcessMetrics();
  const server = await serveMetrics(metrics.endpoint(), address);
  input.out.note(`metrics: ${server.url}`);
  return {
    events: metrics.events,
    watch: (bus, swarms) => metrics.watch(bus, swarms),
  };
}
