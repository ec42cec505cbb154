import { loadTopology, type Topology } from '@swarm/core';
import { isLoopback, startDashboard, swarmMetricsEndpoint } from '@swarm/observe';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { redisBus, withBus } from '../require-redis';

interface Listen {
  host: string;
  port: number;
  token: string | undefined;
}

/** --port, --host and --token, checked before anything connects: a usage error is exit 2. */
function listenOptions(values: Record<string, unknown>): Listen {
  const {
    port: portFlag,
    host: hostFlag,
    token: tokenFlag,
  } = values as {
    port?: string;
    host?: string;
    token?: string;
  };
  const port = Number(portFlag ?? '7777');
  if (portFlag !== undefined && (!/^\d+$/.test(portFlag) || port > 65_535))
    throw new UsageError(`--port needs a port number (0 picks a free one), got ${portFlag}`);
  const host = hostFlag ?? '127.0.0.1';
  const token = tokenFlag ?? (process.env.SWARM_DASHBOARD_TOKEN || undefined);
  // `--token "$UNSET"` must not start a dashboard that an empty `?token=` opens.
  if (token !== undefined && token.trim() === '')
    throw new UsageError('--token is empty: give a secret (or leave --token out on loopback)');
  if (!isLoopback(host) && token === undefined)
    throw new UsageError(
      `--host ${host} is reachable from other machines: set --token <secret> (or $SWARM_DASHBOARD_TOKEN) so every request must carry it`,
    );
  return { host, port, token };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export const dashboard: Command = {
  name: 'dashboard',
  usage: 'swarm dashboard [<topology>] [--port 7777] [--host 127.0.0.1] [--token <secret>]',
  summary:
    "a live web page of every swarm: queues, findings as they arrive, dead letters (retry, purge), subscribers' lag, spend, the topology graph; JSON under /api/",
  options: {
    port: {
      type: 'string',
      value: '<port>',
      description: 'port to listen on (0: a free one)',
      default: '7777',
    },
    host: {
      type: 'string',
      value: '<addr>',
      description: 'address to listen on; any but loopback needs a token',
      default: '127.0.0.1',
    },
    token: {
      type: 'string',
      value: '<secret>',
      description: 'required on every request (Bearer, or ?token= once in the browser)',
      default: '$SWARM_DASHBOARD_TOKEN',
    },
  },
  async run(input) {
    const [file, ...extra] = input.positionals;
    if (extra.length > 0) throw new UsageError(`usage: ${dashboard.usage}`);
    const listen = listenOptions(input.values);
    // Only its swarms and subscriptions are drawn: no module it names is loaded.
    const topology: Topology | undefined = file === undefined ? undefined : loadTopology(file).topology;
    const bus = redisBus(input, 'dashboard', 'long-running');
    return withBus(bus, async () => {
      const server = await startDashboard({
        bus,
        host: listen.host,
        port: listen.port,
        // Read from Redis at each scrape: what every process did to every swarm.
        metrics: swarmMetricsEndpoint(bus),
        ...(listen.token !== undefined ? { token: listen.token } : {}),
        ...(topology ? { topology } : {}),
      });
      input.out.note(
        `dashboard on ${server.url}${listen.token !== undefined ? ' (token required: open it once with ?token=<token>)' : ''}`,
      );
      input.out.result('', { url: server.url, port: server.port, tokenRequired: listen.token !== undefined });
      await waitForSignal();
      await server.close();
      return 0;
    });
  },
};
