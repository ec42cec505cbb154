import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsEndpoint } from '../dashboard/app';
import { MetricsServerError } from './errors';

export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound (port 0 picks a free one). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (and nothing else) for a process: node:http, no framework, since a
 * scrape is one route. A failed render answers 500 with the reason, never a stack trace.
 */
export function serveMetrics(
  endpoint: MetricsEndpoint,
  options: { port: number; host?: string },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    endpoint.render().then(
      (body) =>
        res.writeHead(200, { 'content-type': endpoint.contentType }).end(req.method === 'HEAD' ? '' : body),
      (error: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics could not be read: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  // A scrape holds no long connection: do not let an idle keep-alive delay the process's exit.
  server.keepAliveTimeout = 1_000;
  // Metrics never keep a process alive: it ends when its work does, scraped or not.
  server.unref();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new MetricsServerError(options.port, options.host, error.code ?? error.message)),
    );
    server.listen(options.port, options.host, () => {
      const { port, address } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/metrics`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
