import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Task } from '../messages';

/**
 * Tracing a task from its post to its finding (see docs/OBSERVABILITY.md#traces). Only the
 * OpenTelemetry API is used here. Until a process registers an SDK (the CLI does when `OTEL_*`
 * asks), a post or a delivery costs one check and gets a shared no-op span: no attributes are
 * built, no context is entered, and no task carries a `trace` field (issue #12: tracing off costs
 * nothing measurable).
 */

/** What a post's propagator wrote: W3C Trace Context's `traceparent`, and `tracestate` when set. */
export type TraceCarrier = Record<string, string>;

/** The span of every post and delivery while no SDK is registered. */
const UNTRACED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
/** The provider a proxy hands over to while nothing is registered: the API's no-op. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

let provider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The registered provider's tracer, or undefined while none is registered. Asked again only when
 * the provider changes. Not one tracer kept from load time: that would be this copy of the API's
 * proxy, and a bundle that carries another copy (the CLI's SDK bundle) registers the SDK in the
 * shared global registry (as that copy's proxy) without ever handing this proxy its delegate.
 */
function registeredTracer(): Tracer | undefined {
  const current = trace.getTracerProvider();
  // This copy's proxy with no delegate: nothing is registered. (Registering through this copy
  // gives the same proxy a delegate, so its identity alone does not say.)
  if (current instanceof ProxyTracerProvider && current.getDelegate() === NOOP_PROVIDER) return undefined;
  if (current !== provider || cachedTracer === undefined) {
    provider = current;
    cachedTracer = current.getTracer('swarm');
  }
  return cachedTracer;
}

/** OpenTelemetry's messaging conventions, plus the swarm's own names for the same things. */
function taskAttributes(swarm: string, type: string, operation: 'send' | 'process'): Attributes {
  return {
    'messaging.system': 'swarm',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation === 'send' ? 'post' : 'process',
    'messaging.destination.name': `${swarm}/${type}`,
    'swarm.name': swarm,
    'swarm.task.type': type,
  };
}

/** The producer span of one posted task, a child of the caller's active span if it has one. */
export function startPostSpan(swarm: string, type: string): Span {
  const tracer = registeredTracer();
  if (tracer === undefined) return UNTRACED;
  return tracer.startSpan(`send ${swarm}/${type}`, {
    kind: SpanKind.PRODUCER,
    attributes: taskAttributes(swarm, type, 'send'),
  });
}

/** The trace context to store in a task posted under `span`; undefined when nothing is traced. */
export function traceCarrierOf(span: Span): TraceCarrier | undefined {
  if (span === UNTRACED || !isSpanContextValid(span.spanContext())) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  for (const _ in carrier) return carrier;
  return undefined;
}

/**
 * A worker's span for one delivery of a task: a consumer span that starts a trace of its own and
 * links to the post's span. Linked, not parented: a task may wait hours and be retried by other
 * workers, and a worker runs many tasks, so neither the post's trace nor a worker-lifetime span
 * is its parent.
 */
export function startTaskSpan(task: Task, consumer: string): Span {
  const tracer = registeredTracer();
  if (tracer === undefined) return UNTRACED;
  const links: Link[] = [];
  if (task.trace !== undefined) {
    const posted = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, task.trace));
    if (posted !== undefined && isSpanContextValid(posted)) links.push({ context: posted });
  }
  // Added to the common ones, not spread into a new object: the spread made every traced delivery
  // cost 5 µs more, sampled out or not (issue #12).
  const attributes = taskAttributes(task.swarm, task.type, 'process');
  attributes['messaging.message.id'] = task.id;
  attributes['messaging.consumer.group.name'] = task.type;
  attributes['messaging.client.id'] = consumer;
  attributes['swarm.task.attempt'] = task.attempt;
  return tracer.startSpan(`process ${task.swarm}/${task.type}`, {
    kind: SpanKind.CONSUMER,
    root: true,
    links,
    attributes,
  });
}

/** Runs `work` with `span` active, so spans the work starts are its children. */
export function withSpan<T>(span: Span, work: () => T): T {
  if (span === UNTRACED) return work();
  return context.with(trace.setSpan(context.active(), span), work);
}

/** Marks `span` failed with `error`'s message. */
export function recordSpanError(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The trace of the active span (recorded or sampled out): a finding made now belongs to it. */
export function activeTraceId(): string | undefined {
  const active = trace.getSpanContext(context.active());
  return active !== undefined && isSpanContextValid(active) ? active.traceId : undefined;
}

/** A stored carrier as it must be: an object of strings; anything else is dropped, never refused. */
export function traceCarrierFromJson(value: unknown): TraceCarrier | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const carrier: TraceCarrier = {};
  let any = false;
  for (const [key, field] of Object.entries(value))
    if (typeof field === 'string' && field.length <= 512) {
      carrier[key] = field;
      any = true;
    }
  return any ? carrier : undefined;
}
