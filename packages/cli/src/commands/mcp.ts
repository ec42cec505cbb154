import type { RedisBus } from '@swarm/core';
import type { Command } from '../command';
import { EXIT, UsageError } from '../errors';
import { SwarmAllowList } from '../mcp/allow-list';
import { ContextPages } from '../mcp/context-pages';
import { isLoopback, serveHttp } from '../mcp/http';
import { redisOutage, redisReadiness } from '../mcp/redis-ready';
import { createSwarmMcpServer, ToolCalls } from '../mcp/server';
import { serveStdio } from '../mcp/stdio';
import type { ToolEnv } from '../mcp/tool';
import { cliLogger, redisBus, withBus } from '../require-redis';

/** Longest a stopping server waits for tool calls in flight: a waiting claim stops within a second. */
const SETTLE_MS = 5_000;

interface Listen {
  host: string;
  port: number;
  token: string | undefined;
}

/** --http, --host and --token, checked before anything connects: a usage error is exit 2. */
function listenOptions(values: Record<string, unknown>): Listen | undefined {
  const { http, host, token } = values as { http?: string; host?: string; token?: string };
  if (http === undefined) {
    if (host !== undefined || token !== undefined)
      throw new UsageError('--host and --token go with --http <port>: stdio needs neither');
    return undefined;
  }
  const port = Number(http);
  if (!/^\d+$/.test(http) || port > 65_535)
    throw new UsageError(`--http needs a port number (0 picks a free one), got ${http}`);
  const secret = token ?? (process.env.SWARM_MCP_TOKEN || undefined);
  const address = host ?? '127.0.0.1';
  if (!isLoopback(address) && secret === undefined)
    throw new UsageError(
      `--host ${address} is reachable from other machines: set $SWARM_MCP_TOKEN (or --token) to require a bearer token`,
    );
  return { host: address, port, token: secret };
}

function where(bus: RedisBus): string {
  return bus.connection.where;
}

export const mcp: Command = {
  name: 'mcp',
  usage: 'swarm mcp [--swarm <name|pattern>]... [--http <port> [--host <addr>] [--token <secret>]]',
  summary:
    'serve the swarm as MCP tools (post, claim, read context, report, ...) to an agent: stdio, or streamable HTTP with --http (a token from --token or $SWARM_MCP_TOKEN)',
  options: {
    swarm: {
      type: 'string',
      multiple: true,
      value: '<name|pattern>',
      description: 'a swarm the agent may use (repeatable)',
      default: 'every swarm',
    },
    http: {
      type: 'string',
      value: '<port>',
      description: 'serve streamable HTTP on this port (0: a free one)',
      default: 'stdio',
    },
    host: {
      type: 'string',
      value: '<addr>',
      description: 'address to listen on with --http',
      default: '127.0.0.1',
    },
    token: {
      type: 'string',
      value: '<secret>',
      description: 'bearer token HTTP clients must send',
      default: '$SWARM_MCP_TOKEN',
    },
  },
  async run(input) {
    if (input.positionals.length > 0)
      throw new UsageError(`swarm mcp takes no positional arguments: use --swarm ${input.positionals[0]}`);
    const allowed = new SwarmAllowList((input.values.swarm as unknown as string[] | undefined) ?? []);
    const listen = listenOptions(input.values);
    const log = cliLogger();
    const bus = redisBus(input, 'mcp', 'long-running');
    return withBus(bus, async () => {
      const env: ToolEnv = {
        bus,
        allowed,
        pages: new ContextPages(bus),
        log,
        redisReady: redisReadiness(bus, where(bus)),
        redisOutage: redisOutage(bus, where(bus)),
      };
      const calls = new ToolCalls();
      input.out.note(
        allowed.restricted
          ? `swarms: ${allowed.entries.join(', ')}`
          : 'swarms: every swarm (no --swarm given)',
      );
      if (!listen) await serveStdio(createSwarmMcpServer(env, calls));
      else
        await serveHttp(
          () => createSwarmMcpServer(env, calls),
          {
            ...listen,
            onListening: (url) =>
              input.out.note(
                `listening on ${url}${listen.token !== undefined ? ' (bearer token required)' : ''}`,
              ),
          },
          log,
        );
      // A claim still waiting when the client went must hand its task back before the bus closes.
      await calls.settled(SETTLE_MS);
      return EXIT.ok;
    });
  },
};
