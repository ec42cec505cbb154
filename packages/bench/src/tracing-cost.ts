import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, type Tracing } from '@swarm/observe/tracing';

/**
 * What tracing costs the throughput benchmark: a trace collector's stand-in for the worker
 * process to export to, and the SDK in the posting process with an exporter that drops spans.
 */

/** An OTLP/HTTP endpoint that counts the spans it is sent and keeps none. */
export interface SpanSink {
  readonly endpoint: string;
  readonly spans: number;
  close(): Promise<void>;
}

const KIND = Buffer.from('"kind":');

export async function startSpanSink(): Promise<SpanSink> {
  let spans = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // One `"kind":` per span (links and events have none): counted without parsing, so the sink
      // takes as little as it can of the CPU the poster shares with it.
      const body = Buffer.concat(chunks);
      for (let at = body.indexOf(KIND); at !== -1; at = body.indexOf(KIND, at + KIND.length)) spans++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    get spans() {
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The SDK in this process, as the CLI starts it, but exporting to a counter instead of a collector.
 * `env` (a sampler) is put in process.env while the provider is made: the SDK reads its sampler there.
 */
export function startCountingTracing(env: Record<string, string> = {}): {
  tracing: Tracing;
  readonly spans: number;
} {
  let spans = 0;
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  let tracing: Tracing;
  try {
    tracing = startTracing({
      env: {},
      exporter: {
        export(batch, done) {
          spans += batch.length;
          done({ code: 0 });
        },
        shutdown: async () => {},
      },
    });
  } finally {
    for (const [name, value] of Object.entries(saved))
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  }
  return {
    tracing,
    get spans() {
      return spans;
    },
  };
}
