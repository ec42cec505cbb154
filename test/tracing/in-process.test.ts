import { join } from 'node:path';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { MemoryBus } from '@swarm/core';
import { startTracing, type Tracing, type TracingOptions } from '@swarm/observe/tracing';
import { runOnce, WorkerPool } from '@swarm/worker';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until';

type Exporter = NonNullable<TracingOptions['exporter']>;
type ExportedSpan = Parameters<Exporter['export']>[0][number];

/** The SDK as the CLI starts it, exporting into an array: spans are there once shutdown() returns. */
function collectSpans(): { tracing: Tracing; spans: ExportedSpan[] } {
  const spans: ExportedSpan[] = [];
  const tracing = startTracing({
    env: {},
    exporter: {
      export(batch, done) {
        spans.push(...batch);
        done({ code: 0 });
      },
      shutdown: async () => {},
    },
  });
  return { tracing, spans };
}

const FIXTURES = join(import.meta.dirname, 'fixtures');
const messageId = (span: ExportedSpan) => span.attributes['messaging.message.id'];

describe('task traces in one process', () => {
  let bus: MemoryBus | undefined;
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    await bus?.close();
  });

  it('makes a post inside an active span its child, and gives each task of a batch its own producer span', async () => {
    bus = new MemoryBus();
    const collected = collectSpans();
    tracing = collected.tracing;
    const tracer = trace.getTracer('test');
    const parent = tracer.startSpan('shard round');
    const [one, ...batch] = await context.with(trace.setSpan(context.active(), parent), async () => [
      await bus!.post('s', 't', { data: 1 }),
      ...(await bus!.postBatch('s', 't', [{ data: 2 }, { data: 3 }])),
    ]);
    parent.end();
    await tracing.shutdown();
    tracing = undefined;

    const producers = collected.spans.filter((s) => s.kind === SpanKind.PRODUCER);
    expect(producers.map(messageId).sort()).toEqual([one?.id, ...batch.map((p) => p.id)].sort());
    for (const span of producers) {
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    }
  });

  it('links every attempt of a retried task to the one post, and the finding names the last attempt’s trace', async () => {
    bus = new MemoryBus();
    const collected = collectSpans();
    tracing = collected.tracing;
    const posted = await bus.post('s', 'retried', { data: null });
    const options = {
      bus,
      swarm: 's',
      type: 'retried',
      handler: { module: './fails-first-attempt.mjs' },
      baseDir: FIXTURES,
      waitMs: 30_000,
      maxAttempts: 3,
      logger: pino({ level: 'silent' }),
    };
    const first = await runOnce(options);
    expect(first).toMatchObject({ outcome: 'failed', next: 'retry' });
    const second = await runOnce(options);
    expect(second).toMatchObject({ outcome: 'completed' });
    const [finding] = await bus.readFindings('s');
    await tracing.shutdown();
    tracing = undefined;

    const [producer] = collected.spans.filter((s) => s.kind === SpanKind.PRODUCER);
    const consumers = collected.spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(messageId(producer as ExportedSpan)).toBe(posted.id);
    expect(consumers.map((s) => s.attributes['swarm.task.attempt'])).toEqual([1, 2]);
    for (const consumer of consumers) {
      expect(consumer.parentSpanContext).toBeUndefined();
      expect(consumer.links.map((l) => l.context.spanId)).toEqual([producer?.spanContext().spanId]);
    }
    expect(consumers[0]?.status).toMatchObject({ code: 2, message: 'the first attempt fails' });
    expect(finding?.traceId).toBe(consumers[1]?.spanContext().traceId);
  });

  it('writes no trace field and no traceId once the SDK is shut down: the API is its no-op again', async () => {
    bus = new MemoryBus();
    const collected = collectSpans();
    await collected.tracing.shutdown();
    const posted = await bus.post('s', 'plain', { data: null });
    const result = await runOnce({
      bus,
      swarm: 's',
      type: 'plain',
      handler: { builtin: 'echo' },
      baseDir: FIXTURES,
      waitMs: 10_000,
    });
    expect(result).toMatchObject({ outcome: 'completed', taskId: posted.id });
    const [finding] = await bus.readFindings('s');
    expect(finding).not.toHaveProperty('traceId');
    expect(collected.spans).toEqual([]);
  });

  it('samples a task on both sides or neither: the worker’s span follows its post’s sampling', async () => {
    bus = new MemoryBus();
    const saved = { sampler: process.env.OTEL_TRACES_SAMPLER, arg: process.env.OTEL_TRACES_SAMPLER_ARG };
    process.env.OTEL_TRACES_SAMPLER = 'traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0.5';
    let collected: ReturnType<typeof collectSpans>;
    try {
      collected = collectSpans();
    } finally {
      for (const [name, value] of [
        ['OTEL_TRACES_SAMPLER', saved.sampler],
        ['OTEL_TRACES_SAMPLER_ARG', saved.arg],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    tracing = collected.tracing;
    const posted = await bus.postBatch(
      's',
      'sampled',
      Array.from({ length: 40 }, (_, n) => ({ data: n })),
    );
    const pool = new WorkerPool({
      bus,
      swarm: 's',
      spec: {
        type: 'sampled',
        handler: { builtin: 'echo' },
        concurrency: 4,
        leaseMs: 30_000,
        timeoutMs: 30_000,
        maxAttempts: 3,
        backoff: { baseMs: 1_000, maxMs: 60_000 },
        isolation: 'none',
      },
      baseDir: FIXTURES,
      logger: pino({ level: 'silent' }),
    });
    pool.start();
    await until(async () => (await bus!.readFindings('s')).length === posted.length, 'every finding', 30_000);
    await pool.stop();
    const findings = await bus.readFindings('s');
    await tracing.shutdown();
    tracing = undefined;

    const producers = collected.spans.filter((s) => s.kind === SpanKind.PRODUCER);
    const consumers = collected.spans.filter((s) => s.kind === SpanKind.CONSUMER);
    // A ratio of 0.5 over 40 tasks: some sampled and some not (all or none: 2 in 10^12).
    expect(producers.length).toBeGreaterThan(0);
    expect(producers.length).toBeLessThan(posted.length);
    expect(consumers.map(messageId).sort()).toEqual(producers.map(messageId).sort());
    for (const consumer of consumers) {
      const producer = producers.find((p) => messageId(p) === messageId(consumer));
      expect(consumer.links[0]?.context.spanId).toBe(producer?.spanContext().spanId);
    }
    // An unsampled task's finding still names its (unexported) trace; a sampled one's, the exported span's.
    for (const consumer of consumers)
      expect(findings.find((f) => f.taskId === messageId(consumer))?.traceId).toBe(
        consumer.spanContext().traceId,
      );
  });
});
