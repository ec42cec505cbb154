import type { Claim } from '@swarm/core';
import { z } from 'zod';
import { loose, swarmName, taskSchema, taskType } from '../schemas';
import { defineTool, type ToolEnv } from '../tool';

/** Under the 60 s an MCP client waits for an answer by default. */
export const MAX_WAIT_MS = 50_000;

interface ClaimInput {
  swarm: string;
  type: string;
  waitMs: number;
  leaseMs?: number;
  maxAttempts?: number;
}

/** Claims as asked, until a task comes, the wait ends, or the client abandons the call. */
async function claimWhileWanted(
  { bus, log }: Pick<ToolEnv, 'bus' | 'log'>,
  input: ClaimInput,
  signal: AbortSignal,
): Promise<Claim | undefined> {
  const { swarm, type, ...options } = input;
  const claim = await bus.claim(swarm, type, { ...options, signal });
  if (!claim && signal.aborted) log.warn({ swarm, type }, 'claim_task stopped waiting: its client went away');
  return claim;
}

/** A task claimed for a client that has gone goes back at once, at the same attempt, unworked. */
async function handBack({ bus, log }: Pick<ToolEnv, 'bus' | 'log'>, claim: Claim): Promise<void> {
  const released = await bus.releaseClaim(claim.handle);
  log.warn({ claim: claim.handle, outcome: released.outcome }, 'claim_task abandoned: task handed back');
}

export const claimTask = defineTool({
  name: 'claim_task',
  title: 'Claim a task',
  description:
    "Claim one task of a type, waiting up to waitMs for one. You then hold it for leaseMs (default 10 minutes; renew_lease for longer): read its context with read_context, then settle it with report_finding or fail_task. outcome 'no-task': none came.",
  input: z.strictObject({
    swarm: swarmName,
    type: taskType,
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_MS)
      .optional()
      .describe(`how long to wait for a task, in ms (default 10000, at most ${MAX_WAIT_MS})`),
    leaseMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('how long the claim holds the task (default 600000)'),
    maxAttempts: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('a task whose claims keep lapsing is dead-lettered at this many attempts (default 5)'),
  }),
  output: z.object({
    outcome: z.enum(['claimed', 'no-task']),
    swarm: z.string(),
    type: z.string(),
    claim: z
      .string()
      .optional()
      .describe('the claim handle: pass it to report_finding, fail_task, renew_lease'),
    task: taskSchema.optional(),
    context: z
      .object({
        ref: z.string(),
        bytes: z.number().nullable(),
        lines: z.number().nullable(),
        error: z.string().optional(),
      })
      .nullable()
      .optional()
      .describe('the task context: read it with read_context {swarm, ref}; null when the task has none'),
    leaseMs: z.number().optional(),
    expiresAt: z.number().optional().describe('epoch ms when the lease lapses unless renewed'),
  }),
  async run({ swarm, type, waitMs = 10_000, leaseMs, maxAttempts }, env, signal) {
    env.allowed.assert(swarm);
    const claim = await claimWhileWanted(env, { swarm, type, waitMs, leaseMs, maxAttempts }, signal);
    if (!claim) return { outcome: 'no-task' as const, swarm, type };
    const ref = claim.task.context;
    let context = null;
    if (ref !== undefined)
      context = await env.pages.size(swarm, ref).then(
        (size) => ({ ref, ...size }),
        // The claim stands either way: the agent holds a task and must settle it.
        (error: Error) => ({ ref, bytes: null, lines: null, error: error.message }),
      );
    if (signal.aborted) {
      await handBack(env, claim);
      return { outcome: 'no-task' as const, swarm, type };
    }
    return {
      outcome: 'claimed' as const,
      swarm,
      type,
      claim: claim.handle,
      task: loose(claim.task),
      context,
      leaseMs: claim.leaseMs,
      expiresAt: claim.expiresAt,
    };
  },
});
