import { parseClaimHandle } from '@swarm/core';
import { z } from 'zod';
import { refusalReason } from '../../claim-refusal';
import { claimHandle } from '../schemas';
import { defineTool } from '../tool';

export const failTask = defineTool({
  name: 'fail_task',
  title: 'Fail a task',
  description:
    "Give up a claimed task with an error. outcome 'retry': it comes back after a backoff (attempt, delayMs); 'dead': dead-lettered (retry false, or maxAttempts reached); 'settled' or 'lost': the claim no longer held it.",
  input: z.strictObject({
    claim: claimHandle,
    error: z.string().min(1).describe('what went wrong, for whoever tries next'),
    retry: z.boolean().optional().describe('false: dead-letter it now (default true)'),
    maxAttempts: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('dead-letter at this many attempts (default 5)'),
  }),
  output: z.object({
    outcome: z.enum(['retry', 'dead', 'settled', 'lost']),
    claim: z.string(),
    attempt: z.number().optional().describe('the attempt the retry will be'),
    delayMs: z.number().optional(),
    reason: z.string().optional(),
  }),
  async run({ claim, error, retry, maxAttempts }, { bus, allowed }) {
    allowed.assert(parseClaimHandle(claim).swarm);
    const failed = await bus.failClaim(claim, error, { retry, maxAttempts });
    switch (failed.outcome) {
      case 'retry':
        return { outcome: 'retry' as const, claim, attempt: failed.attempt, delayMs: failed.delayMs };
      case 'dead':
        return { outcome: 'dead' as const, claim, reason: failed.reason };
      default:
        return { outcome: failed.outcome, claim, reason: refusalReason(failed) };
    }
  },
});
