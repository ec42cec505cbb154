import { z } from 'zod';
import { MAX_PARTITIONS } from '../keys';

/**
 * The topology file's schema: the one source of truth for its TypeScript types and for
 * config/swarm.schema.json (editor completion). Objects are strict, so a misspelt key is an
 * error with a did-you-mean, not a silently ignored setting.
 */

const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'use 1-64 characters from a-z A-Z 0-9 _ . - starting with a letter or digit',
  );

const milliseconds = z.number().int().positive();

/** A model as swarm names it: `provider:model`, the provider as the topology or genai-prices knows it. */
const modelId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}:\S+$/,
    'a model id is provider:model, like anthropic:claude-haiku-4-5 or myvllm:llama-3.1-8b',
  );

export const llmSchema = z
  .strictObject({
    model: modelId.describe('provider:model, e.g. anthropic:claude-haiku-4-5'),
    fallback: z
      .array(modelId)
      .default([])
      .describe('models tried in turn when the one before fails (429, 5xx, 529, a timeout, a cut stream)'),
    route: z
      .enum(['ordered', 'cheapest'])
      .default('ordered')
      .describe(
        'ordered: model, then fallback in turn; cheapest: the cheapest of them whose context window holds the prompt',
      ),
    system: z.string().optional().describe('the system prompt'),
    prompt: z
      .string()
      .default('{{description}}\n\n{{data}}')
      .describe("the user prompt: {{description}}, {{data}} (JSON) and {{data.<key>}} are the task's"),
    context: z
      .enum(['full', 'none'])
      .default('full')
      .describe("full: the shard's context goes first, a stable prefix the vendor can cache; none: left out"),
    output: z
      .union([z.literal('text'), z.record(z.string(), z.unknown())])
      .default('text')
      .describe('text, or a JSON Schema the answer must meet (a reply that does not fails the attempt)'),
    maxOutputTokens: z.number().int().positive().default(1_024),
    temperature: z.number().min(0).max(2).optional(),
    hedge: z
      .strictObject({ afterMs: milliseconds })
      .optional()
      .describe('ask the next model too when the first has not answered in afterMs; the first answer wins'),
  })
  .describe("a model call per task, through the vendor's API");

export const budgetSchema = z
  .strictObject({
    usd: z.number().positive().optional().describe('most dollars to spend, over the life of the swarm'),
    tokens: z.number().int().positive().optional().describe('most tokens to spend'),
  })
  .describe('a spending cap, enforced before each model call across every process');

export const providerSchema = z
  .strictObject({
    kind: z
      .enum(['anthropic', 'openai', 'google', 'deepseek', 'openai-compatible'])
      .optional()
      .describe("the vendor's API (default: the provider's own name, when it is one of these)"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the topology's ${ENV} syntax, not a template
    apiKey: z.string().optional().describe('use ${ENV_VAR}: never write a key into the file'),
    baseURL: z.string().url().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    limits: z
      .strictObject({
        requestsPerMinute: z.number().positive().optional(),
        tokensPerMinute: z.number().positive().optional(),
        concurrency: z.number().int().positive().optional(),
      })
      .optional()
      .describe("the provider's rate limits, shared by every process of a swarm"),
  })
  .describe('a model vendor: credentials, endpoint and limits');

export const handlerSchema = z
  .strictObject({
    module: z
      .string()
      .min(1)
      .optional()
      .describe('JS/TS module exporting the handler, relative to this file'),
    export: z
      .string()
      .min(1)
      .optional()
      .describe("the module's export to call (default: default, then handler)"),
    command: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('program and arguments, run without a shell; the task arrives as JSON on stdin'),
    passDataAsArgs: z
      .boolean()
      .optional()
      .describe("append the task's data (an array of strings) to the command's arguments"),
    env: z.record(z.string(), z.string()).optional().describe('extra environment for the command'),
    output: z
      .enum(['finding', 'claude'])
      .optional()
      .describe(
        "how the command's stdout becomes the finding: finding (default: JSON { summary, data? } or plain text) or claude (the JSON of `claude -p --output-format json`: result as summary, cost and tokens in data.usage, is_error fails the attempt)",
      ),
    builtin: z
      .enum(['redis_health_check', 'echo', 'sleep'])
      .optional()
      .describe('a handler that ships with swarm'),
    llm: llmSchema.optional(),
  })
  .describe('exactly one of module, command, builtin or llm');

const moduleRef = {
  module: z.string().min(1).describe('JS/TS module, relative to this file'),
  export: z.string().min(1).optional().describe("the module's export (default: default)"),
};

export const subscriptionSchema = z
  .strictObject({
    key: name
      .optional()
      .describe("a stable name for this subscription's stored cursor (default: its position in the list)"),
    swarms: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        "swarm names or glob patterns ('research-*'); a pattern also picks up swarms that appear later",
      ),
    types: z.array(name).optional().describe('only findings of these task types'),
    tags: z.array(z.string().min(1)).optional().describe('only findings carrying at least one of these tags'),
    where: z
      .strictObject(moduleRef)
      .optional()
      .describe('only findings for which this function (finding) => boolean returns true'),
    from: z
      .union([z.enum(['start', 'now']), z.iso.datetime({ offset: true })])
      .default('start')
      .describe('where a new subscriber starts; a restarted one resumes from its stored cursor'),
  })
  .describe("another swarm's findings, delivered durably and in order per source swarm");

export const actorSchema = z
  .strictObject({
    name: name.describe('unique in its swarm; its durable cursors are stored under it'),
    ...moduleRef,
    config: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("the actor's settings, validated by the config schema it exports"),
    subscribe: z.array(subscriptionSchema).default([]),
  })
  .describe('a custom actor: a module whose export is defineActor({ kind, config, start })');

export const workerPoolSchema = z.strictObject({
  type: name.describe('task type this pool claims'),
  handler: handlerSchema,
  concurrency: z.number().int().min(1).max(10_000).default(1),
  leaseMs: milliseconds.default(30_000),
  timeoutMs: milliseconds.default(300_000).describe('a task running longer is aborted and failed'),
  maxAttempts: z.number().int().min(1).max(1_000).default(3),
  backoff: z
    .strictObject({ baseMs: milliseconds, maxMs: milliseconds })
    .default({ baseMs: 1_000, maxMs: 60_000 }),
  isolation: z
    .enum(['none', 'process'])
    .default('none')
    .describe('process: each task in a fresh child process'),
  assist: z
    .boolean()
    .default(false)
    .describe("also answer the swarm's help requests (ctx.askPeers) when a slot is free"),
  budget: budgetSchema.optional().describe("this pool's spending cap (llm handlers)"),
  partitions: z
    .number()
    .int()
    .min(1)
    .max(MAX_PARTITIONS)
    .default(1)
    .describe('task streams of this type, each its own Redis Cluster slot (docs/SCALING.md)'),
});

export const taskSchema = z.strictObject({
  type: name,
  description: z.string().default(''),
  data: z.json().optional(),
});

export const shardSchema = z.strictObject({
  id: name,
  specialization: z.string().default('general'),
  context: z
    .strictObject({
      text: z.string().optional(),
      files: z.array(z.string().min(1)).optional().describe('glob patterns, relative to this file'),
    })
    .optional(),
  tasks: z.array(taskSchema).default([]),
  subscribe: z
    .array(subscriptionSchema)
    .default([])
    .describe("findings folded into this shard's context, so its workers learn from them"),
});

export const swarmSchema = z.strictObject({
  shards: z.array(shardSchema).default([]),
  workers: z.array(workerPoolSchema).default([]),
  actors: z.array(actorSchema).default([]),
  budget: budgetSchema.optional().describe("the swarm's spending cap, over all its llm pools"),
  durability: z
    .strictObject({
      replicas: z
        .number()
        .int()
        .nonnegative()
        .describe('replicas that must hold a post or a completion first'),
      timeoutMs: milliseconds.default(1_000).describe('how long to wait for them before the call fails'),
    })
    .optional()
    .describe(
      'posts and completions are acknowledged only once this many replicas hold them (Redis WAIT), so a failover cannot take them back; see docs/RELIABILITY.md',
    ),
});

const dollarsPerMTok = z.number().nonnegative();

/**
 * One model's price and limits where genai-prices' bundled table lacks or is wrong about them
 * (issue #10): a model with no price anywhere cannot run under a budget.
 */
export const priceSchema = z
  .strictObject({
    inputPerMTok: dollarsPerMTok.optional().describe('dollars per million input tokens'),
    outputPerMTok: dollarsPerMTok.optional().describe('dollars per million output tokens'),
    cachedInputPerMTok: dollarsPerMTok
      .optional()
      .describe('dollars per million input tokens read from the prompt cache (default: inputPerMTok)'),
    cacheWritePerMTok: dollarsPerMTok
      .optional()
      .describe('dollars per million input tokens written to the prompt cache (default: inputPerMTok)'),
    contextWindow: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('most tokens the prompt and the answer may hold together'),
    maxOutputTokens: z.number().int().positive().optional().describe('most tokens one answer may hold'),
  })
  .superRefine((price, ctx) => {
    const priced = price.inputPerMTok !== undefined || price.outputPerMTok !== undefined;
    for (const key of ['inputPerMTok', 'outputPerMTok'] as const)
      if (priced && price[key] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `missing "${key}": a price gives inputPerMTok and outputPerMTok together`,
        });
    for (const key of ['cachedInputPerMTok', 'cacheWritePerMTok'] as const)
      if (!priced && price[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" needs inputPerMTok and outputPerMTok beside it`,
        });
  })
  .describe("a model's price (dollars per million tokens) and limits, over genai-prices' table");

export const topologySchema = z
  .strictObject({
    $schema: z.string().optional(),
    transport: z
      .strictObject({
        redis: z
          .string()
          .optional()
          .describe('redis:// or rediss:// URL; empty or absent: embedded, in-process'),
      })
      .default({}),
    providers: z
      .record(name, providerSchema)
      .default({})
      .describe(
        'model vendors by name: anthropic, openai, google, deepseek, or your own OpenAI-compatible ones',
      ),
    swarms: z.record(name, swarmSchema),
    prices: z
      .record(modelId, priceSchema)
      .default({})
      .describe('per model id (provider:model): price and limits over the bundled price table'),
  })
  .describe('a swarm topology: swarms, their shards and worker pools, and the transport');

export type Topology = z.output<typeof topologySchema>;
export type SwarmSpec = z.output<typeof swarmSchema>;
export type ShardSpec = z.output<typeof shardSchema>;
export type WorkerPoolSpec = z.output<typeof workerPoolSchema>;
export type ActorSpec = z.output<typeof actorSchema>;
export type SubscriptionSpecYaml = z.output<typeof subscriptionSchema>;
export type HandlerSpec = z.output<typeof handlerSchema>;
export type TaskSpec = z.output<typeof taskSchema>;
export type LlmSpec = z.output<typeof llmSchema>;
export type BudgetSpec = z.output<typeof budgetSchema>;
export type ProviderSpec = z.output<typeof providerSchema>;
export type PriceSpec = z.output<typeof priceSchema>;

/** The JSON Schema written to config/swarm.schema.json. */
export function topologyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(topologySchema, { io: 'input' }) as Record<string, unknown>;
}
