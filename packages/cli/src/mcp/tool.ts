import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Bus } from '@swarm/core';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { SwarmAllowList } from './allow-list';
import type { ContextPages } from './context-pages';

/** What every tool call may use; one per `swarm mcp` process. */
export interface ToolEnv {
  bus: Bus;
  allowed: SwarmAllowList;
  pages: ContextPages;
  log: Logger;
  /** Resolves once Redis answers, or rejects cleanly if it stays away: a call never half-happens. */
  redisReady(): Promise<void>;
  /** Watches a call in flight for Redis going away (redis-ready.ts); absent, nothing watches. */
  redisOutage?(readOnly: boolean): { lost: Promise<never>; stop(): void };
}

/** One MCP tool: zod schemas in and out, and the work between them. */
export interface SwarmTool<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: In;
  output: Out;
  annotations?: ToolAnnotations;
  /** `signal` aborts when the client cancels the call or goes away. */
  run(args: z.output<In>, env: ToolEnv, signal: AbortSignal): Promise<z.input<Out>>;
  /** The text blocks the agent reads; the result as JSON unless the tool says otherwise. */
  text?(result: z.input<Out>): string[];
}

export function defineTool<In extends z.ZodObject, Out extends z.ZodObject>(
  tool: SwarmTool<In, Out>,
): SwarmTool<In, Out> {
  return tool;
}
