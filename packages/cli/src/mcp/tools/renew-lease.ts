import { parseClaimHandle } from '@swarm/core';
import { z } from 'zod';
import { refusalReason } from '../../claim-refusal';
import { claimHandle } from '../schemas';
import { defineTool } from '../tool';

export const renewLease = defineTool({
  name: 'renew_lease',
  title: 'Renew a claim',
  description:
    "Keep holding a claimed task: its lease starts again (leaseMs when given, else the claim's own). outcome 'settled' or 'lost': the claim no longer holds it; stop working on it.",
  input: z.strictObject({
    claim: claimHandle,
    leaseMs: z.number().int().positive().optional().describe('the new lease in ms'),
  }),
  output: z.object({
    outcome: z.enum(['renewed', 'settled', 'lost']),
    claim: z.string(),
    leaseMs: z.number().optional(),
    reason: z.string().optional(),
  }),
  async run({ claim, leaseMs }, { bus, allowed }) {
    allowed.assert(parseClaimHandle(claim).swarm);
    const renewed = await bus.renewClaim(claim, leaseMs === undefined ? {} : { leaseMs });
    if (renewed.outcome !== 'renewed')
      return { outcome: renewed.outcome, claim, reason: refusalReason(renewed) };
    return { outcome: 'renewed' as const, claim, leaseMs: renewed.leaseMs };
  },
});
