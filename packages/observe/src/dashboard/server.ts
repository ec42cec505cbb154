import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { serve } from '@hono/node-server';
import { isLoopback } from './access';
import { createDashboardApp, type DashboardAppOptions } from './app';
import { DashboardTokenRequiredError } from './errors';

export interface DashboardOptions extends Omit<DashboardAppOptions, 'host'> {
  /** Default 127.0.0.1; any other address needs a token. */
  host?: string;
  /** Default 7777; 0 picks a free port. */
  port?: number;
}

export interface Dashboard {
  /** `http://host:port/`, with the port bound. */
  readonly url: string;
  readonly port: number;
  /** Ends the event streams, then stops listening; the bus stays open (it is the caller's). */
  close(): Promise<void>;
}

/**
 * Serves the dashboard. Refuses (DashboardTokenRequiredError) an address other than loopback
 * without a token: the page can retry and purge dead letters.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && options.token === undefined) throw new DashboardTokenRequiredError(host);
  const { app, closeStreams } = createDashboardApp({ ...options, host });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 7777 }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = isIP(host) === 6 ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    async close() {
      closeStreams();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
}
