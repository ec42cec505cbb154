import { context, type DiagLogger, DiagLogLevel, diag, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { LinkFollowingSampler, samplerFromEnv } from './task-sampler';
import { TracingConfigError } from './tracing-config-error';

export interface TracingOptions {
  /**
   * Where the exporter's variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*PROTOCOL) are read
   * from; process.env by default. The sampler, limits, batching and endpoint are read from
   * process.env, as the SDK itself reads them.
   */
  env?: Record<string, string | undefined>;
  /** `service.name` when OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) gives none. */
  serviceName?: string;
  /** Export here instead of what OTEL_TRACES_EXPORTER names (a benchmark's, a test's). */
  exporter?: SpanExporter;
  /** Where the SDK's own warnings go (an export that failed); stderr by default. */
  warn?: (message: string) => void;
}

export interface Tracing {
  /**
   * Exports what is still buffered, then unregisters the SDK (the API is its no-op again): call it
   * before the process exits.
   */
  shutdown(): Promise<void>;
}

/** The protocol OTLPTraceExporter speaks; OpenTelemetry's default (http/protobuf) is another package. */
const OTLP_PROTOCOL = 'http/json';

/**
 * Registers OpenTelemetry's Node SDK for this process: its tracer provider (sampler, limits and
 * batching from the standard OTEL_* variables; a task's worker span follows its post's sampling), W3C Trace Context and Baggage propagation, and an
 * AsyncLocalStorage context manager, so a worker's handler runs inside the task's span. Spans go
 * through a batch processor to the exporters OTEL_TRACES_EXPORTER names (`otlp`: OTLP over HTTP
 * with JSON, to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT). No
 * instrumentation is loaded: a swarm's spans are its tasks', not each Redis command's.
 */
export function startTracing(options: TracingOptions = {}): Tracing {
  const env = options.env ?? process.env;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`swarm: tracing: ${message}\n`));
  const exporters = options.exporter ? [options.exporter] : exportersFrom(env);
  diag.setLogger(warningsTo(warn), DiagLogLevel.WARN);
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': options.serviceName ?? 'swarm' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    sampler: new LinkFollowingSampler(samplerFromEnv(process.env)),
    spanProcessors: exporters.map((exporter) => new BatchSpanProcessor(exporter)),
  });
  provider.register();
  return {
    shutdown: async () => {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      }
    },
  };
}

function exportersFrom(env: Record<string, string | undefined>): SpanExporter[] {
  const names = (env.OTEL_TRACES_EXPORTER?.trim() || 'otlp')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
  return [...new Set(names)].map((name) => {
    if (name !== 'otlp')
      throw new TracingConfigError(
        `OTEL_TRACES_EXPORTER=${name} is not supported: swarm exports traces with otlp (OTLP over HTTP, JSON), or none`,
      );
    for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
      const protocol = env[variable]?.trim();
      if (protocol && protocol !== OTLP_PROTOCOL)
        throw new TracingConfigError(
          `${variable}=${protocol} is not supported: swarm sends OTLP as ${OTLP_PROTOCOL} (set ${variable}=${OTLP_PROTOCOL}, or leave it unset)`,
        );
      if (protocol) break;
    }
    return new OTLPTraceExporter();
  });
}

/**
 * The SDK's diagnostics, one line each and only their message: an export's error object can hold
 * the request, and its headers (OTEL_EXPORTER_OTLP_HEADERS) often hold an API key.
 */
function warningsTo(warn: (message: string) => void): DiagLogger {
  const say = (message: string) => warn(message.split('\n')[0] ?? message);
  const quiet = () => {};
  return { error: say, warn: say, info: quiet, debug: quiet, verbose: quiet };
}
