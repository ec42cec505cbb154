/** The nouns every actor shares: tasks go in, findings come out, dead letters keep what failed. */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface TaskInput {
  description?: string;
  data?: JsonValue;
  /** Id of the shard (or actor) that posted the task. */
  parent?: string;
  /** Context reference (see ContextStore) the worker should read. */
  context?: string;
  /** Posting twice with one key yields one task (within the bus's idempotency window). */
  idempotencyKey?: string;
  /** Task id to use; generated when absent. */
  id?: string;
  /** Epoch ms after which nobody wants the answer: a worker that claims it later records it as expired without running it. */
  deadline?: number;
}

export interface Task {
  id: string;
  swarm: string;
  type: string;
  description: string;
  data: JsonValue;
  parent: string | undefined;
  context: string | undefined;
  /** 1 on first delivery; counts failures, retries and expired leases. */
  attempt: number;
  createdAt: number;
  idempotencyKey: string | undefined;
  /** Errors of earlier attempts, oldest first. */
  errors: AttemptError[];
  /** See TaskInput.deadline; absent when the task has none. */
  deadline?: number;
  /**
   * W3C Trace Context of the post's producer span (`traceparent`, `tracestate`): absent when the
   * poster traces nothing. A worker's span links to it (docs/OBSERVABILITY.md#traces).
   */
  trace?: Record<string, string>;
}

export interface AttemptError {
  attempt: number;
  message: string;
  at: number;
  /** The model calls the failed attempt made, each costed: the finding's usage counts them too. */
  calls?: ModelCall[];
}

/** One model call a task made: every attempt, fallback and hedge loser is one, each costed. */
export interface ModelCall {
  provider: string;
  model: string;
  /** `answered`: its answer became the finding; `failed`: an error (the message says which); `aborted`: cut off (a hedge loser, a timeout). */
  outcome: 'answered' | 'failed' | 'aborted';
  inputTokens: number;
  /** Input tokens read from the vendor's prompt cache (a part of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the vendor's prompt cache (a part of inputTokens). */
  cacheWriteTokens: number;
  outputTokens: number;
  /** Output tokens spent on reasoning (a part of outputTokens). */
  reasoningTokens: number;
  costUsd: number;
  /** True when the vendor reported no usage (an aborted stream) and tokens were estimated. */
  estimated?: boolean;
  /** Wall time of the call, ms. */
  ms: number;
  error?: string;
}

/**
 * What a model worker spent on a task: the answering call's model and tokens, and the cost of
 * every call the task took (`calls`), so retries, fallbacks and hedges are paid for where they
 * show.
 */
export interface Usage {
  provider: string;
  model: string;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** The sum over `calls`. */
  costUsd: number;
  /** The price table the costs come from (genai-prices' version, or `topology` for overrides). */
  priceVersion: string;
  calls: ModelCall[];
}

export interface FindingInput {
  summary: string;
  data?: JsonValue;
  /** Context version the worker read; defaults to the task's context reference. */
  contextVersion?: string;
  /** Labels subscribers filter on (`swarm findings --tag`). */
  tags?: string[];
  /** What model calls the finding cost (model workers). */
  usage?: Usage;
}

/** A finding no task produced: an actor's summary, a help request. */
export interface PublishInput extends FindingInput {
  /** What kind of finding this is; subscribers filter on it like a task type. */
  type: string;
  /** The task it answers or relates to; a fresh id when absent. */
  taskId?: string;
  /** What it is traceable to: the task or shard it came from. */
  parent?: string;
  /** Who published it (an actor's name). */
  workerId?: string;
}

/** Read-only: subscribers in one process may be handed the same parsed object. */
export interface Finding {
  /** Stream entry id: sortable, and the cursor a reader resumes from. */
  id: string;
  taskId: string;
  swarm: string;
  type: string;
  summary: string;
  data: JsonValue;
  workerId: string;
  attempt: number;
  contextVersion: string | undefined;
  /** The posting shard's id, copied from the task, so a shard can pick out its own findings. */
  parent: string | undefined;
  tags: string[];
  createdAt: number;
  /** What model calls the finding cost; absent for findings no model produced. */
  usage?: Usage;
  /** The trace the finding was made in (the worker's span), to look it up in a trace backend; absent when untraced. */
  traceId?: string;
}

export interface ShardInfo {
  id: string;
  specialization: string;
  /** Current context version (reference), if the shard has a context. */
  context: string | undefined;
  /** Last finding id the shard has taken in, so a restarted shard resumes after it. */
  cursor: string | undefined;
  updatedAt: number;
}

export interface TaskTypeStatus {
  type: string;
  /** Posted and never delivered. */
  waiting: number;
  /** Delivered and not yet settled. */
  inFlight: number;
  /** Failed, waiting out their backoff. */
  delayed: number;
  consumers: number;
  /** Age of the oldest waiting or in-flight task, in ms (0 when none). */
  oldestAgeMs: number;
}

export interface SwarmStatus {
  swarm: string;
  types: TaskTypeStatus[];
  findings: number;
  deadLetters: number;
  shards: ShardInfo[];
  /** Id of the newest finding ('0-0' when none): a subscriber whose cursor is older has catching up to do. */
  lastFinding: string;
  /** Durable subscribers of this swarm's findings and the last finding each has taken. */
  subscribers: { name: string; cursor: string }[];
  /** Consumers whose reads keep failing now (a lost Redis node, a refused command), so none goes unseen. */
  errors: RepeatedError[];
}

/** A consumer's read that keeps failing, as it last recorded it (at most once a minute). */
export interface RepeatedError {
  consumer: string;
  type: string;
  /** What keeps failing: `reading tasks`. */
  what: string;
  /** The last error's message. */
  error: string;
  failures: number;
  /** When the first of these failures came, and when this record was written (ms since the epoch). */
  since: number;
  at: number;
}

export interface DeadLetter {
  /** Entry id in the swarm's dead-letter stream. */
  id: string;
  swarm: string;
  type: string;
  reason: string;
  deadAt: number;
  /** The task as it was last delivered; undefined when its entry did not parse. */
  task: Task | undefined;
  errors: AttemptError[];
  /** The entry's raw fields, kept so a malformed entry can be inspected. */
  raw: Record<string, string>;
}

export interface PostedTask {
  id: string;
  /** True when an idempotency key matched an earlier post and nothing new was queued. */
  duplicate: boolean;
}

export type CompleteResult = { duplicate: false; findingId: string } | { duplicate: true };

export type FailResult =
  | { outcome: 'retry'; delayMs: number; attempt: number }
  | { outcome: 'dead'; reason: string }
  | { outcome: 'lost' };
