import { MemoryBus } from '@swarm/core';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition, sample } from '../../../../test/support/prometheus';
import { parseMetricsAddress } from './metrics-address';
import { serveMetrics } from './metrics-server';
import { ProcessMetrics } from './process-metrics';
import { scrapeSwarms, swarmMetricsEndpoint } from './scrape-swarms';

const buses: MemoryBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

describe('scrapeSwarms', () => {
  it('reads every swarm: counters per type, queues waiting and in flight, subscriber lag; cost only where known', async () => {
    const root = new MemoryBus();
    buses.push(root);
    const other = new MemoryBus({ shareWith: root });
    buses.push(other);
    await root.postBatch('alpha', 'scan', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    await other.post('beta', 'ask', { data: 1 });
    const [first, second] = await firstValueFrom(
      root.consume('alpha', 'scan', { concurrency: 2 }).pipe(take(2), toArray()),
    );
    await first?.complete({ summary: 'done' });
    await second?.fail(new Error('no'), { retry: false });
    await root.publish('beta', { type: 'note', summary: 'x' });
    await root.publish('beta', { type: 'note', summary: 'y' });
    // A durable subscriber that took the first of two findings.
    const [note] = await root.readFindings('beta');
    await root.memory.putCursor('beta', 'digest', note?.id ?? '');

    const samples = parseExposition(await (await scrapeSwarms(root)).metrics());
    const scan = { swarm: 'alpha', type: 'scan' };
    expect(samples.get(sample('swarm_tasks_posted_total', scan))).toBe(3);
    expect(samples.get(sample('swarm_tasks_completed_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_failed_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_dead_lettered_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_leases_reclaimed_total', scan))).toBe(0);
    expect(samples.get(sample('swarm_queue_waiting', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_posted_total', { swarm: 'beta', type: 'ask' }))).toBe(1);
    expect(samples.get(sample('swarm_queue_waiting', { swarm: 'beta', type: 'ask' }))).toBe(1);
    expect(samples.get(sample('swarm_subscriber_lag', { swarm: 'beta', subscriber: 'digest' }))).toBe(1);
    expect([...samples.keys()].some((k) => k.startsWith('swarm_cost_usd_total'))).toBe(false);
  });

  it('serves the scrape as Prometheus text over HTTP, and only at /metrics', async () => {
    const bus = new MemoryBus();
    buses.push(bus);
    await bus.post('alpha', 'scan', {});
    const server = await serveMetrics(swarmMetricsEndpoint(bus), { port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const samples = parseExposition(await response.text());
      expect(samples.get(sample('swarm_tasks_posted_total', { swarm: 'alpha', type: 'scan' }))).toBe(1);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('says which port is taken', async () => {
    const bus = new MemoryBus();
    buses.push(bus);
    const first = await serveMetrics(swarmMetricsEndpoint(bus), { port: 0, host: '127.0.0.1' });
    try {
      await expect(
        serveMetrics(swarmMetricsEndpoint(bus), { port: first.port, host: '127.0.0.1' }),
      ).rejects.toMatchObject({
        code: 'SWARM_METRICS_UNAVAILABLE',
        message: `cannot serve metrics on 127.0.0.1:${first.port}: another process listens there: pick another port`,
      });
    } finally {
      await first.close();
    }
  });
});

describe('ProcessMetrics', () => {
  it("counts its own bus's work, times each completion from claim to finding, and tracks what it has in flight", async () => {
    const metrics = new ProcessMetrics();
    const bus = new MemoryBus({ events: metrics.events });
    buses.push(bus);
    const elsewhere = new MemoryBus({ shareWith: bus });
    buses.push(elsewhere);
    metrics.watch(bus, ['alpha']);
    await bus.postBatch('alpha', 'scan', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    await elsewhere.post('alpha', 'scan', { data: 4 });
    const got = await firstValueFrom(
      bus.consume('alpha', 'scan', { concurrency: 3, maxAttempts: 1 }).pipe(take(3), toArray()),
    );
    const [a, b] = got;
    const usage = {
      provider: 'p',
      model: 'm',
      inputTokens: 1,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
      costUsd: 0.5,
      priceVersion: 'topology',
      calls: [],
    };
    await a?.complete({ summary: 'ok', usage });
    await b?.fail(new Error('poison'));
    const samples = parseExposition(await metrics.render());
    const scan = { swarm: 'alpha', type: 'scan' };
    // Only this process's posts: the fourth task came from another bus.
    expect(samples.get(sample('swarm_tasks_posted_total', scan))).toBe(3);
    expect(samples.get(sample('swarm_tasks_completed_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_failed_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_dead_lettered_total', scan))).toBe(1);
    expect(samples.get(sample('swarm_tasks_in_flight', scan))).toBe(1);
    expect(samples.get(sample('swarm_cost_usd_total', scan))).toBe(0.5);
    expect(samples.get(sample('swarm_task_duration_seconds_count', scan))).toBe(1);
    expect(samples.get(sample('swarm_task_duration_seconds_bucket', { ...scan, le: '+Inf' }))).toBe(1);
    // The queue is the swarm's, read from the store when scraped.
    expect(samples.get(sample('swarm_queue_waiting', scan))).toBe(1);
  });
});

describe('parseMetricsAddress', () => {
  it('takes a port or host:port, and refuses anything else saying what it wants', () => {
    expect(parseMetricsAddress('9464')).toEqual({ port: 9464 });
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ port: 0, host: '::1' });
    for (const bad of ['', 'x', '70000', ':9464', '9464:', 'http://h:1'])
      expect(() => parseMetricsAddress(bad)).toThrow(
        /--metrics .* is not a port: give a port \(9464\) or host:port/,
      );
  });
});
