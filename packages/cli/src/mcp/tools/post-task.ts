import { z } from 'zod';
import { swarmName, taskType } from '../schemas';
import { defineTool } from '../tool';

export const postTask = defineTool({
  name: 'post_task',
  title: 'Post a task',
  description:
    'Queue one task for a swarm. Give a context by reference (context) or as text to store (contextText); an idempotencyKey makes a retried post queue it once.',
  input: z
    .strictObject({
      swarm: swarmName,
      type: taskType,
      description: z.string().optional().describe('what the worker should do'),
      data: z.json().optional().describe('any JSON the worker needs'),
      context: z.string().min(1).optional().describe('reference of a stored context'),
      contextText: z.string().optional().describe('text to store as the task context (instead of context)'),
      idempotencyKey: z.string().min(1).optional(),
      deadline: z
        .number()
        .int()
        .nonnegative()
        .optional()
        .describe('epoch ms after which nobody wants the answer'),
    })
    .refine((args) => args.context === undefined || args.contextText === undefined, {
      message: 'give context (a reference) or contextText, not both',
      path: ['contextText'],
    }),
  output: z.object({
    id: z.string().describe('task id'),
    swarm: z.string(),
    type: z.string(),
    duplicate: z
      .boolean()
      .describe('true: the idempotency key matched an earlier post; nothing new was queued'),
    context: z.string().optional(),
  }),
  async run(args, { bus, allowed }) {
    allowed.assert(args.swarm);
    const context =
      args.contextText !== undefined ? await bus.context.put(args.swarm, args.contextText) : args.context;
    const posted = await bus.post(args.swarm, args.type, {
      description: args.description,
      data: args.data ?? null,
      context,
      idempotencyKey: args.idempotencyKey,
      deadline: args.deadline,
    });
    return { ...posted, swarm: args.swarm, type: args.type, context };
  },
});
