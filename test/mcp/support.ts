import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The bundled CLI (vitest's global setup builds it): what an MCP client starts as `swarm mcp`. */
export const SWARM_BIN = join(import.meta.dirname, '../../packages/cli/dist/swarm.mjs');

/** The environment a child `swarm` gets: this one, minus any Redis or token the developer has set. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && key !== 'SWARM_REDIS_URL' && key !== 'SWARM_MCP_TOKEN') env[key] = value;
  return { ...env, ...extra };
}

export interface StdioSwarm {
  client: Client;
  transport: StdioClientTransport;
  /** What the client could not parse or deliver: a stray line on the server's stdout lands here. */
  errors: Error[];
  stderr(): string;
  close(): Promise<void>;
}

/** A real `swarm mcp` process on stdio, with the SDK's own client connected to it. */
export async function connectStdio(
  args: string[],
  env: Record<string, string>,
  command: { command: string; args: string[] } = { command: process.execPath, args: [SWARM_BIN, 'mcp'] },
): Promise<StdioSwarm> {
  const transport = new StdioClientTransport({
    command: command.command,
    args: [...command.args, ...args],
    env: childEnv(env),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'swarm-test', version: '1.0.0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(transport);
  return { client, transport, errors, stderr: () => stderr, close: () => client.close() };
}

export interface HttpSwarm {
  url: URL;
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** A real `swarm mcp --http 0` process; resolves once it says where it listens. */
export async function startHttp(args: string[], env: Record<string, string>): Promise<HttpSwarm> {
  const child = spawn(process.execPath, [SWARM_BIN, 'mcp', '--http', '0', ...args], {
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(new URL(match[1] as string));
    });
    exited.then((code) => reject(new Error(`swarm mcp exited ${code} before listening:\n${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    exited,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function connectHttp(url: URL, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'swarm-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

/** Calls a tool that must succeed; its structured result. */
export async function call<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return result.structuredContent as T;
}

/** Calls a tool that must fail; the message the agent reads. */
export async function callError(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (!result.isError) throw new Error(`${name} succeeded: ${JSON.stringify(result.structuredContent)}`);
  return textOf(result);
}
