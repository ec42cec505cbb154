import { tracingRequested } from '@swarm/observe/tracing-requested';

/**
 * Starts OpenTelemetry's SDK when the `OTEL_*` variables ask for traces, else does nothing and
 * loads nothing: the SDK is a bundle of its own (dist/tracing.cjs, see build.mjs), read only here.
 */
export async function startTracingIfAsked(): Promise<{ shutdown(): Promise<void> } | undefined> {
  if (!tracingRequested(process.env)) return undefined;
  const { startTracing } = await import('@swarm/observe/tracing');
  return startTracing({ serviceName: 'swarm' });
}

/** How long a process waits for its last spans to export before it exits anyway. */
const SHUTDOWN_MS = 5_000;

/** Exports the spans still buffered; a collector that does not answer delays the exit at most SHUTDOWN_MS. */
export async function stopTracing(tracing: { shutdown(): Promise<void> } | undefined): Promise<void> {
  if (!tracing) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    tracing.shutdown().catch((error: unknown) => {
      process.stderr.write(`swarm: tracing: ${error instanceof Error ? error.message : String(error)}\n`);
    }),
    new Promise((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_MS);
    }),
  ]);
  clearTimeout(timer);
}
