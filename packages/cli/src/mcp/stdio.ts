import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/**
 * Serves one client on stdin/stdout until it goes (stdin ends, stdout breaks) or a signal comes.
 * stdout is the protocol channel: logs and notes go to stderr.
 */
export async function serveStdio(server: McpServer): Promise<void> {
  const transport = new StdioServerTransport();
  await new Promise<void>((resolve, reject) => {
    const stop = () => resolve();
    process.stdin.once('end', stop);
    process.stdin.once('close', stop);
    // A client that died mid-answer: EPIPE on the next write. Nobody is left to read, so stop.
    process.stdout.on('error', stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.connect(transport).catch(reject);
  });
  await server.close();
}
