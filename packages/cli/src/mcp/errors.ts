import { SwarmError } from '@swarm/core';

/** Errors a tool call answers with (a tool error the calling agent reads), never a crash. */
export type McpErrorCode =
  | 'SWARM_MCP_SWARM_NOT_ALLOWED'
  | 'SWARM_MCP_REDIS_UNAVAILABLE'
  | 'SWARM_MCP_BAD_RANGE';

export class SwarmNotAllowedError extends SwarmError<McpErrorCode> {
  constructor(what: string, allowed: readonly string[]) {
    super(
      'SWARM_MCP_SWARM_NOT_ALLOWED',
      `${what} is outside this server's swarms (${allowed.join(', ')}): ask for one of those, or start \`swarm mcp\` with another --swarm`,
    );
  }
}

export class RedisUnavailableError extends SwarmError<McpErrorCode> {
  constructor(where: string, waitedMs: number) {
    super(
      'SWARM_MCP_REDIS_UNAVAILABLE',
      `Redis at ${where} did not come back within ${waitedMs / 1_000} s; nothing was done: try the call again later`,
    );
  }
}

export class RedisLostDuringCallError extends SwarmError<McpErrorCode> {
  constructor(where: string, waitedMs: number) {
    super(
      'SWARM_MCP_REDIS_UNAVAILABLE',
      `Redis at ${where} went away during the call and did not come back within ${waitedMs / 1_000} s; what was sent may still be carried out when it returns: check (swarm_status, list_findings) before repeating the call`,
    );
  }
}

export class BadRangeError extends SwarmError<McpErrorCode> {
  constructor(message: string) {
    super('SWARM_MCP_BAD_RANGE', message);
  }
}
