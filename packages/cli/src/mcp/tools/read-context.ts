import { z } from 'zod';
import { MAX_PAGE_BYTES, MAX_PAGE_LINES } from '../context-pages';
import { swarmName } from '../schemas';
import { defineTool } from '../tool';

export const readContext = defineTool({
  name: 'read_context',
  title: 'Read a page of a context',
  description:
    'Read a stored context a page at a time: by bytes (offset, length; default 32 KiB from 0) or by lines (line from 1, lines; default 400). Pass `next` back to read on until `more` is false.',
  annotations: { readOnlyHint: true },
  input: z.strictObject({
    swarm: swarmName,
    ref: z.string().min(1).describe("context reference (a task's context field)"),
    offset: z.number().int().nonnegative().optional().describe('first byte, from 0'),
    length: z.number().int().positive().max(MAX_PAGE_BYTES).optional().describe('bytes to read'),
    line: z.number().int().positive().optional().describe('first line, from 1'),
    lines: z.number().int().positive().max(MAX_PAGE_LINES).optional().describe('lines to read'),
  }),
  output: z.object({
    swarm: z.string(),
    ref: z.string(),
    text: z.string(),
    offset: z.number().describe('first byte returned'),
    length: z.number().describe('bytes returned (ends on a character boundary)'),
    firstLine: z.number().describe('first line the page touches (0 when empty)'),
    lastLine: z.number(),
    totalBytes: z.number(),
    totalLines: z.number(),
    more: z.boolean(),
    next: z
      .object({ offset: z.number().optional(), line: z.number().optional() })
      .nullable()
      .describe('the arguments for the next page; null at the end'),
  }),
  async run({ swarm, ref, ...range }, { allowed, pages }) {
    allowed.assert(swarm);
    return { swarm, ref, ...(await pages.read(swarm, ref, range)) };
  },
  // The page as plain text after a JSON header, so the agent reads the context, not an escaped string.
  text: ({ text, ...header }) => [JSON.stringify(header), text],
});
