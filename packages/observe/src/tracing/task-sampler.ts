import {
  type Attributes,
  type Context,
  type Link,
  type SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';

/**
 * A worker's span for a task starts a new trace linked to the post's span, so a parent-based
 * sampler sees no parent and decides afresh: at a 10 % ratio, only 1 % of tasks would be traced on
 * both sides. This sampler lets such a span follow its link's sampled flag, as a child follows its
 * parent's, and leaves every other span to the sampler OTEL_TRACES_SAMPLER names.
 */
export class LinkFollowingSampler implements Sampler {
  constructor(private readonly otherwise: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const [link] = links;
    if (trace.getSpanContext(context) === undefined && link !== undefined)
      return {
        decision:
          (link.context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
            ? SamplingDecision.RECORD_AND_SAMPLED
            : SamplingDecision.NOT_RECORD,
      };
    return this.otherwise.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `LinkFollowingSampler{${this.otherwise.toString()}}`;
  }
}

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, as the SDK reads them (parentbased_always_on by default). */
export function samplerFromEnv(env: Record<string, string | undefined>): Sampler {
  const raw = Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  const ratio = Number.isFinite(raw) && raw >= 0 && raw <= 1 ? raw : 1;
  switch (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
