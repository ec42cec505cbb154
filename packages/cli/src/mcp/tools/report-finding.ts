import { parseClaimHandle } from '@swarm/core';
import { z } from 'zod';
import { refusalReason } from '../../claim-refusal';
import { claimHandle } from '../schemas';
import { defineTool } from '../tool';

export const reportFinding = defineTool({
  name: 'report_finding',
  title: 'Report a finding',
  description:
    "Complete a claimed task with its finding, exactly once. outcome 'completed' gives the finding id; 'settled' (reported before) or 'lost' (the lease lapsed and another worker holds the task) wrote nothing.",
  input: z.strictObject({
    claim: claimHandle,
    summary: z.string().describe('the answer, in a sentence or a paragraph'),
    data: z.json().optional().describe('any JSON detail'),
    tags: z.array(z.string().min(1)).optional().describe('labels subscribers filter on, e.g. ["risk"]'),
    contextVersion: z.string().optional().describe('the context reference read (default: the task context)'),
  }),
  output: z.object({
    outcome: z.enum(['completed', 'settled', 'lost']),
    claim: z.string(),
    findingId: z.string().optional(),
    reason: z.string().optional().describe('why nothing was written'),
  }),
  async run({ claim, summary, data, tags, contextVersion }, { bus, allowed }) {
    allowed.assert(parseClaimHandle(claim).swarm);
    const reported = await bus.report(claim, { summary, data, tags, contextVersion });
    if (reported.outcome === 'completed')
      return { outcome: 'completed' as const, claim, findingId: reported.findingId };
    return { outcome: reported.outcome, claim, reason: refusalReason(reported) };
  },
});
