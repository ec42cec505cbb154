import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import packageJson from '../../package.json' with { type: 'json' };
import type { SwarmTool, ToolEnv } from './tool';
import { claimTask } from './tools/claim-task';
import { failTask } from './tools/fail-task';
import { listFindings } from './tools/list-findings';
import { postTask } from './tools/post-task';
import { readContext } from './tools/read-context';
import { renewLease } from './tools/renew-lease';
import { reportFinding } from './tools/report-finding';
import { swarmStatus } from './tools/swarm-status';

export const SWARM_TOOLS: SwarmTool[] = [
  claimTask,
  readContext,
  reportFinding,
  failTask,
  renewLease,
  postTask,
  listFindings,
  swarmStatus,
];

const INSTRUCTIONS =
  'Tools for a swarm on Redis. A worker claims one task (claim_task), reads its context a page at a time (read_context), and reports one finding (report_finding) or fails the task (fail_task); renew_lease keeps a long claim alive. post_task queues work; list_findings and swarm_status look around.';

/** Tool calls still running, so a server shutting down lets them finish (or hand back a claim) first. */
export class ToolCalls {
  readonly #running = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    // The caller handles the call's own failure; this copy must not be an unhandled rejection.
    const tracked: Promise<unknown> = call.catch(() => {}).finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
    return call;
  }

  /** Resolves when every call has settled, or after `limitMs`. */
  async settled(limitMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(this.#running),
      new Promise((resolve) => {
        timer = setTimeout(resolve, limitMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** A server with every swarm tool; stdio builds one, HTTP one per request. */
export function createSwarmMcpServer(env: ToolEnv, calls: ToolCalls): McpServer {
  const server = new McpServer(
    { name: 'swarm', version: packageJson.version },
    { instructions: INSTRUCTIONS },
  );
  for (const tool of SWARM_TOOLS) register(server, tool, env, calls);
  return server;
}

function register(server: McpServer, tool: SwarmTool, env: ToolEnv, calls: ToolCalls): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    },
    (args, extra) => calls.track(callTool(tool, args, env, extra.signal)),
  );
}

async function callTool(
  tool: SwarmTool,
  args: Record<string, unknown>,
  env: ToolEnv,
  signal: AbortSignal,
): Promise<CallToolResult> {
  try {
    await env.redisReady();
    const outage = env.redisOutage?.(tool.annotations?.readOnlyHint === true);
    let result: Awaited<ReturnType<typeof tool.run>>;
    try {
      result = await (outage
        ? Promise.race([tool.run(args, env, signal), outage.lost])
        : tool.run(args, env, signal));
    } finally {
      outage?.stop();
    }
    const text = tool.text?.(result) ?? [JSON.stringify(result)];
    return {
      content: text.map((t) => ({ type: 'text' as const, text: t })),
      structuredContent: result as Record<string, unknown>,
    };
  } catch (error) {
    // The agent reads the message and decides; the server carries on.
    const message = error instanceof Error ? error.message : String(error);
    env.log.warn({ tool: tool.name, code: (error as { code?: unknown }).code }, message);
    return { content: [{ type: 'text', text: message }], isError: true };
  }
}
