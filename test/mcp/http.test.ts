import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server';
import { call, childEnv, connectHttp, type HttpSwarm, SWARM_BIN, startHttp } from './support';

const TOKEN = 's3cret-token-for-this-test';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** One raw HTTP request, with headers fetch would not let us set (Host). */
function send(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: unknown },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

async function exitOf(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [SWARM_BIN, 'mcp', ...args], { env: childEnv(env) });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stderr };
}

describe('swarm mcp --http', () => {
  const redis = useRedisServer();
  let withToken: HttpSwarm;

  beforeAll(async () => {
    withToken = await startHttp(['--swarm', 'web'], { SWARM_REDIS_URL: redis.url, SWARM_MCP_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await withToken?.stop();
  });

  it('binds 127.0.0.1 and serves the tools to a client with the bearer token', async () => {
    expect(withToken.url.hostname).toBe('127.0.0.1');
    expect(withToken.url.pathname).toBe('/mcp');
    const client = await connectHttp(withToken.url, TOKEN);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('claim_task');
      await call(client, 'post_task', { swarm: 'web', type: 'ask', description: 'over HTTP' });
      const claimed = await call<{ claim: string; task: { description: string } }>(client, 'claim_task', {
        swarm: 'web',
        type: 'ask',
        waitMs: 5_000,
      });
      expect(claimed.task.description).toBe('over HTTP');
      expect(
        await call(client, 'report_finding', { claim: claimed.claim, summary: 'answered' }),
      ).toMatchObject({
        outcome: 'completed',
      });
    } finally {
      await client.close();
    }
  });

  it('answers 401 without the token or with a wrong one, and never prints the token', async () => {
    const none = await send(withToken.url, { body: INITIALIZE });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(none.body).error.message).toContain('Authorization: Bearer');
    const wrong = await send(withToken.url, { body: INITIALIZE, headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await send(withToken.url, {
      body: INITIALIZE,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(right.status).toBe(200);
    await expect(connectHttp(withToken.url)).rejects.toThrow();
    expect(withToken.stderr()).not.toContain(TOKEN);
  });

  it('refuses a Host that does not name this machine (DNS rebinding), and methods other than POST', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const rebound = await send(withToken.url, {
      body: INITIALIZE,
      headers: { ...auth, host: 'evil.example:80' },
    });
    expect(rebound.status).toBe(403);
    const get = await send(withToken.url, { method: 'GET', headers: auth });
    expect(get.status).toBe(405);
    const elsewhere = await send(new URL('/other', withToken.url), { body: INITIALIZE, headers: auth });
    expect(elsewhere.status).toBe(404);
  });

  it('needs no token on loopback when none is set', async () => {
    const open = await startHttp([], { SWARM_REDIS_URL: redis.url });
    try {
      const client = await connectHttp(open.url);
      expect(await call(client, 'swarm_status', { swarm: 'web' })).toMatchObject({
        swarms: [{ swarm: 'web' }],
      });
      await client.close();
    } finally {
      await open.stop();
    }
  });

  it('exits 2 when asked to listen beyond loopback without a token', async () => {
    const refused = await exitOf(['--http', '0', '--host', '0.0.0.0'], { SWARM_REDIS_URL: redis.url });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('SWARM_MCP_TOKEN');
    const stray = await exitOf(['--token', 'x'], { SWARM_REDIS_URL: redis.url });
    expect(stray.code).toBe(2);
    const port = await exitOf(['--http', 'eighty'], { SWARM_REDIS_URL: redis.url });
    expect(port.code).toBe(2);
  });

  it('listens beyond loopback with a token, and still refuses requests without it', async () => {
    const wide = await startHttp(['--host', '0.0.0.0', '--token', TOKEN], { SWARM_REDIS_URL: redis.url });
    try {
      const local = new URL(wide.url.pathname, `http://127.0.0.1:${wide.url.port}`);
      expect((await send(local, { body: INITIALIZE })).status).toBe(401);
      const client = await connectHttp(local, TOKEN);
      expect((await client.listTools()).tools.length).toBe(8);
      await client.close();
    } finally {
      expect(await wide.stop()).toBe(0);
    }
  });
});
