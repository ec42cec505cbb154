/**
 * Whether the environment asks for traces, by OpenTelemetry's own variables: an exporter other
 * than `none` (OTEL_TRACES_EXPORTER), or an OTLP endpoint to send them to, and OTEL_SDK_DISABLED
 * not `true`. Nothing else is read, and nothing is loaded, so a process that asks for nothing
 * keeps the API's no-op tracer. (OpenTelemetry's default exporter is otlp; ours is none, so that
 * a swarm sends nothing anywhere unless told.)
 */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters) return exporters.split(',').some((name) => name.trim() !== 'none' && name.trim() !== '');
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}
