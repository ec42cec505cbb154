import { z } from 'zod';

/**
 * The nouns tool results carry, as zod schemas: the SDK turns them into each tool's JSON Schema
 * and checks every result against them. Loose objects: a field core adds later reaches clients
 * instead of failing their validation.
 */

type Loose<T> = T extends readonly (infer U)[]
  ? Loose<U>[]
  : T extends object
    ? { [K in keyof T]: Loose<T[K]> } & Record<string, unknown>
    : T;

/** Core's nouns are interfaces, which TypeScript will not match to a loose schema's index signature. */
export function loose<T extends object>(value: T): Loose<T> {
  return value as Loose<T>;
}

export const swarmName = z
  .string()
  .min(1)
  .describe('swarm name (this server may be limited to some swarms: see swarm_status)');
export const taskType = z.string().min(1).describe('task type, e.g. "review"');
export const claimHandle = z.string().min(1).describe('claim.handle from claim_task');

const attemptError = z.looseObject({ attempt: z.number(), message: z.string(), at: z.number() });

export const taskSchema = z.looseObject({
  id: z.string(),
  swarm: z.string(),
  type: z.string(),
  description: z.string(),
  data: z.json(),
  parent: z.string().optional(),
  context: z.string().optional().describe('context reference: read it with read_context'),
  attempt: z.number().int(),
  createdAt: z.number(),
  idempotencyKey: z.string().optional(),
  errors: z.array(attemptError),
  deadline: z.number().optional(),
});

export const findingSchema = z.looseObject({
  id: z.string(),
  taskId: z.string(),
  swarm: z.string(),
  type: z.string(),
  summary: z.string(),
  data: z.json(),
  workerId: z.string(),
  attempt: z.number().int(),
  contextVersion: z.string().optional(),
  parent: z.string().optional(),
  tags: z.array(z.string()),
  createdAt: z.number(),
});

export const swarmStatusSchema = z.looseObject({
  swarm: z.string(),
  types: z.array(
    z.looseObject({
      type: z.string(),
      waiting: z.number(),
      inFlight: z.number(),
      delayed: z.number(),
      consumers: z.number(),
      oldestAgeMs: z.number(),
    }),
  ),
  findings: z.number(),
  deadLetters: z.number(),
  shards: z.array(
    z.looseObject({
      id: z.string(),
      specialization: z.string(),
      context: z.string().optional(),
      cursor: z.string().optional(),
      updatedAt: z.number(),
    }),
  ),
  lastFinding: z.string(),
  subscribers: z.array(z.looseObject({ name: z.string(), cursor: z.string() })),
});
