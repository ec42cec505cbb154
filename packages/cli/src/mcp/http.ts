import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from 'pino';

export const MCP_PATH = '/mcp';

export interface HttpServeOptions {
  host: string;
  port: number;
  /** Required as `Authorization: Bearer <token>` when set. */
  token: string | undefined;
  /** Told the URL once the port is bound (stderr: stdout stays clean). */
  onListening(url: string): void;
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare.startsWith('::ffff:127.');
}

/** Compares digests of equal length, so neither the token's content nor its length leaks by timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given ?? ''), digest(token)) && given !== undefined;
}

function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return undefined;
  }
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/**
 * Streamable HTTP, stateless: each POST gets a fresh server and transport (the SDK's stateless
 * pattern), so a client that goes away mid-call closes only its own request, whose tool handlers
 * see their signal abort.
 */
export async function serveHttp(
  newServer: () => McpServer,
  options: HttpServeOptions,
  log: Logger,
): Promise<void> {
  const loopback = isLoopback(options.host);
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, 'MCP request failed');
      if (!res.headersSent) refuse(res, 500, 'internal error');
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== MCP_PATH)
      return refuse(res, 404, `not found: the MCP endpoint is ${MCP_PATH}`);
    // DNS rebinding: a web page whose name resolves to 127.0.0.1 still sends its own Host.
    const hostname = hostnameOf(req.headers.host);
    if (loopback && !(hostname !== undefined && isLoopback(hostname)))
      return refuse(res, 403, 'forbidden: Host must name this machine');
    if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token))
      return refuse(res, 401, 'unauthorized: send Authorization: Bearer <token>', {
        'www-authenticate': 'Bearer realm="swarm"',
      });
    if (req.method !== 'POST')
      return refuse(res, 405, 'method not allowed: this stateless server takes POST only', { allow: 'POST' });
    const server = newServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  await new Promise<void>((resolve, failToListen) => {
    http.once('error', failToListen);
    http.listen(options.port, options.host, () => {
      http.off('error', failToListen);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const shownHost = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  options.onListening(`http://${shownHost}:${port}${MCP_PATH}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}
