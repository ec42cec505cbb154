import { RedisBus } from '@swarm/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, startSwarmCli, swarmCli } from '../support/cli';
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from '../support/otlp-receiver';
import { useRedisServer } from '../support/redis-server';
import { until } from '../support/until';

/** Every OTEL_* variable a developer's shell might carry, blanked: each test sets its own. */
const NO_OTEL = Object.fromEntries(
  Object.keys(process.env)
    .filter((name) => name.startsWith('OTEL_'))
    .map((name) => [name, '']),
);

describe('traces of a task across a poster process and a worker process', () => {
  const redis = useRedisServer();
  let receiver: OtlpReceiver;
  let bus: RedisBus;
  let raw: Redis;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    bus = new RedisBus({ url: redis.url });
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw.disconnect();
    await bus.close();
    await receiver.close();
  });

  const traced = (service: string) => ({
    ...NO_OTEL,
    SWARM_REDIS_URL: redis.url,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.endpoint,
    OTEL_SERVICE_NAME: service,
    // Export soon after a span ends, so the long-running worker's spans arrive while it runs.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });

  /** The task entry as stored, parsed: what a worker in any language reads. */
  async function storedTask(swarm: string, type: string, id: string): Promise<Record<string, unknown>> {
    const entries = await raw.xrange(`swarm:{${swarm}}:tasks:${type}`, '-', '+');
    const tasks = entries.map(([, fields]) => JSON.parse(fields[1] as string) as Record<string, unknown>);
    const task = tasks.find((t) => t.id === id);
    if (!task) throw new Error(`task ${id} is not in the stream`);
    return task;
  }

  it('gives each task one producer span in the poster and one consumer span in the worker, linked to it, and the finding its trace id', async () => {
    const worker = startSwarmCli(['worker', 'traced', 'echo', '--handler', 'echo'], {
      env: traced('traced-worker'),
    });
    try {
      const ids: string[] = [];
      for (let n = 0; n < 4; n++) {
        const posted = await swarmCli(['post', 'traced', 'echo', '--data', JSON.stringify({ n }), '--json'], {
          env: traced('traced-poster'),
        });
        expect(posted.stderr).not.toContain('tracing');
        expect(posted.code).toBe(0);
        ids.push(String(jsonLines(posted.stdout)[0]?.id));
      }
      const tasks = await Promise.all(ids.map((id) => storedTask('traced', 'echo', id)));
      for (const task of tasks)
        expect(task.trace).toEqual({
          traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
        });

      await until(
        async () => (await bus.readFindings('traced')).length === ids.length,
        'a finding per task',
        60_000,
      );
      const consumerSpans = () => receiver.spans.filter((s) => s.kind === SPAN_KIND.consumer);
      await until(() => consumerSpans().length >= ids.length, 'a consumer span per task', 60_000);
      const findings = await bus.readFindings('traced');
      expect(receiver.rejected).toEqual([]);

      const spansOf = (kind: number, id: string): ReceivedSpan[] =>
        receiver.spans.filter((s) => s.kind === kind && s.attributes['messaging.message.id'] === id);
      for (const [i, id] of ids.entries()) {
        const producers = spansOf(SPAN_KIND.producer, id);
        const consumers = spansOf(SPAN_KIND.consumer, id);
        expect(producers).toHaveLength(1);
        expect(consumers).toHaveLength(1);
        const [producer, consumer] = [producers[0] as ReceivedSpan, consumers[0] as ReceivedSpan];
        expect(producer.service).toBe('traced-poster');
        expect(consumer.service).toBe('traced-worker');
        // The task carries the producer span's context: the worker found it there.
        expect(tasks[i]?.trace).toEqual({ traceparent: `00-${producer.traceId}-${producer.spanId}-01` });
        // Linked, not parented: the consumer span starts a trace of its own, the child of nothing.
        expect(consumer.parentSpanId).toBe('');
        expect(consumer.traceId).not.toBe(producer.traceId);
        expect(consumer.links).toEqual([{ traceId: producer.traceId, spanId: producer.spanId }]);
        expect(consumer.attributes).toMatchObject({
          'messaging.system': 'swarm',
          'messaging.destination.name': 'traced/echo',
          'swarm.name': 'traced',
          'swarm.task.type': 'echo',
          'swarm.task.outcome': 'completed',
        });
        expect(producer.attributes).toMatchObject({
          'messaging.operation.type': 'send',
          'swarm.task.type': 'echo',
        });
        const finding = findings.find((f) => f.taskId === id);
        expect(finding?.traceId).toBe(consumer.traceId);
        expect(consumer.attributes['swarm.finding.id']).toBe(finding?.id);
      }
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('writes no trace context and exports nothing without OTEL_* variables, and the task runs as before', async () => {
    const before = receiver.spans.length;
    const plain = { ...NO_OTEL, SWARM_REDIS_URL: redis.url };
    const posted = await swarmCli(['post', 'plain', 'echo', '--data', '{"n":1}', '--json'], { env: plain });
    expect(posted.code).toBe(0);
    const id = String(jsonLines(posted.stdout)[0]?.id);
    expect(await storedTask('plain', 'echo', id)).not.toHaveProperty('trace');
    const worked = await swarmCli(['worker', 'plain', 'echo', '--once', '--handler', 'echo', '--json'], {
      env: plain,
    });
    expect(worked.code).toBe(0);
    const [finding] = await bus.readFindings('plain');
    expect(finding?.taskId).toBe(id);
    expect(finding).not.toHaveProperty('traceId');
    expect(receiver.spans.length).toBe(before);
  });

  it('stays off when OTEL_SDK_DISABLED is true or the exporter is none, even with an endpoint', async () => {
    const before = receiver.spans.length;
    for (const off of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }]) {
      const env = { ...traced('off'), OTEL_TRACES_EXPORTER: '', ...off };
      const posted = await swarmCli(['post', 'off', 'echo', '--json'], { env });
      expect(posted.code).toBe(0);
      expect(await storedTask('off', 'echo', String(jsonLines(posted.stdout)[0]?.id))).not.toHaveProperty(
        'trace',
      );
    }
    expect(receiver.spans.length).toBe(before);
  });

  it('refuses an exporter or protocol it does not have, with exit 2 and the variable named', async () => {
    for (const [variable, value] of [
      ['OTEL_TRACES_EXPORTER', 'zipkin'],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ] as const) {
      const result = await swarmCli(['post', 'refused', 'echo'], {
        env: { ...traced('refused'), [variable]: value },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${variable}=${value} is not supported`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await raw.exists('swarm:{refused}:tasks:echo')).toBe(0);
    }
  });
});
