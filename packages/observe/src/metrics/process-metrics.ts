import type { Bus, BusEvents, SettledDelivery } from '@swarm/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsEndpoint } from '../dashboard/app';
import { DURATION_BUCKETS, METRICS, TASK_LABELS } from './metric-names';
import { type SwarmGauges, swarmGauges } from './swarm-gauges';

/** What one process did to one (swarm, type), as plain numbers: see ProcessMetrics. */
interface Tally {
  posted: number;
  completed: number;
  failed: number;
  deadLettered: number;
  reclaimed: number;
  costUsd: number;
  inFlight: number;
}

const COUNTED = ['posted', 'completed', 'failed', 'deadLettered', 'reclaimed'] as const;

/**
 * What this process did (`swarm run --metrics`, `swarm worker --metrics`), fed by its bus's
 * events: pass `events` to the bus, then `watch` it for the queue and subscriber gauges. Counts
 * are plain numbers on the hot path, handed to prom-client only when scraped; the duration
 * histogram is observed per completed task (claim to finding).
 */
export class ProcessMetrics {
  readonly registry = new Registry();
  readonly events: BusEvents;
  readonly #tallies = new Map<string, Map<string, Tally>>();
  readonly #duration: Histogram<'swarm' | 'type'>;
  readonly #gauges: SwarmGauges;
  #watched: { bus: Bus; swarms: Set<string> } | undefined;

  constructor() {
    const tallies = () => this.#each();
    for (const key of COUNTED)
      new Counter({
        ...METRICS[key],
        labelNames: TASK_LABELS,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [labels, tally] of tallies()) this.inc(labels, tally[key]);
        },
      });
    new Counter({
      ...METRICS.costUsd,
      labelNames: TASK_LABELS,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, tally] of tallies()) if (tally.costUsd > 0) this.inc(labels, tally.costUsd);
      },
    });
    new Gauge({
      ...METRICS.inFlight,
      labelNames: TASK_LABELS,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, tally] of tallies()) this.set(labels, tally.inFlight);
      },
    });
    this.#duration = new Histogram({
      ...METRICS.duration,
      labelNames: TASK_LABELS,
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
    this.#gauges = swarmGauges(this.registry, { inFlight: false });
    this.events = {
      posted: (swarm, type, n) => {
        this.#tally(swarm, type).posted += n;
      },
      delivered: (swarm, type) => {
        this.#tally(swarm, type).inFlight++;
      },
      settled: (event) => this.#settled(event),
      reclaimed: (swarm, type, n) => {
        this.#tally(swarm, type).reclaimed += n;
      },
    };
  }

  /** Reads the queues and subscribers of these swarms (and every swarm this process worked on) when scraped. */
  watch(bus: Bus, swarms: string[] = []): void {
    this.#watched = { bus, swarms: new Set(swarms) };
  }

  /**
   * The exposition text: the swarm gauges are read first. When Redis cannot answer, the process's
   * own counts still render, beside the gauges' last values.
   */
  async render(): Promise<string> {
    const watched = this.#watched;
    if (watched)
      await this.#gauges
        .read(watched.bus, [...new Set([...watched.swarms, ...this.#tallies.keys()])])
        .catch(() => {});
    return this.registry.metrics();
  }

  endpoint(): MetricsEndpoint {
    return { contentType: this.registry.contentType, render: () => this.render() };
  }

  #settled(event: SettledDelivery): void {
    const tally = this.#tally(event.swarm, event.type);
    tally.inFlight--;
    switch (event.outcome) {
      case 'completed':
        tally.completed++;
        if (event.costUsd !== undefined && event.costUsd > 0) tally.costUsd += event.costUsd;
        this.#duration.observe({ swarm: event.swarm, type: event.type }, event.ms / 1_000);
        break;
      case 'retry':
        tally.failed++;
        break;
      case 'dead':
        tally.failed++;
        tally.deadLettered++;
        break;
    }
  }

  #tally(swarm: string, type: string): Tally {
    let types = this.#tallies.get(swarm);
    if (!types) {
      types = new Map();
      this.#tallies.set(swarm, types);
    }
    let tally = types.get(type);
    if (!tally) {
      tally = { posted: 0, completed: 0, failed: 0, deadLettered: 0, reclaimed: 0, costUsd: 0, inFlight: 0 };
      types.set(type, tally);
    }
    return tally;
  }

  *#each(): Generator<[{ swarm: string; type: string }, Tally]> {
    for (const [swarm, types] of this.#tallies)
      for (const [type, tally] of types) yield [{ swarm, type }, tally];
  }
}
