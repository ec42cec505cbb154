import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import packageJson from '../../package.json' with { type: 'json' };
import type { SwarmTool, ToolEnv } from './tool';
import { listFindings } from './tools/list-findings';
import { postTask } from './tools/post-task';
import { readContext } from './tools/read-context';
import { swarmStatus } from './tools/swarm-status';

export const SWARM_TOOLS: SwarmTool[] = [postTask, readContext, listFindings, swarmStatus];

const INSTRUCTIONS = `Tools for a swarm on Redis. A worker claims one task (claim_task), reads its context a page at a time (read_context), and reports one finding (report_finding) or fails the task (fail_task); renew_lease keeps a long claim alive. post_task queues work, list_findings and swarm_status look around.`;

/** A server with every swarm tool; stdio builds one, HTTP one per request. */
export function createSwarmMcpServer(env: ToolEnv, log: Logger): McpServer {
  const server = new McpServer(
    { name: 'swarm', version: packageJson.version },
    { instructions: INSTRUCTIONS },
  );
  for (const tool of SWARM_TOOLS) register(server, tool, env, log);
  return server;
}

function register(server: McpServer, tool: SwarmTool, env: ToolEnv, log: Logger): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    },
    async (args, extra): Promise<CallToolResult> => {
      try {
        await env.redisReady();
        const result = await tool.run(args, env, extra.signal);
        const text = tool.text?.(result) ?? [JSON.stringify(result)];
        return {
          content: text.map((t) => ({ type: 'text' as const, text: t })),
          structuredContent: result as Record<string, unknown>,
        };
      } catch (error) {
        // The agent reads the message and decides; the server carries on.
        const message = error instanceof Error ? error.message : String(error);
        const code = (error as { code?: unknown }).code;
        log.warn({ tool: tool.name, code }, message);
        return { content: [{ type: 'text', text: message }], isError: true };
      }
    },
  );
}
