import type { Finding, FindingInput, Task } from '@swarm/core';
import type { Logger } from 'pino';
import type { AskPeersOptions, AssistRequest } from './assist';

/** Everything a handler gets for one task, and nothing that outlives it. */
export interface HandlerContext {
  /** Only the task: no state crosses tasks. */
  task: Task;
  /**
   * The delivery's entry id in its task type's stream (unique within that type only): the same
   * when another worker reclaims the task, new when it is retried or deferred. What the llm
   * handler's ledger reservations are held under, with the task type.
   */
  deliveryId: string;
  /** The parent shard's context as UTF-8 text; rejects when the task carries no context. */
  context(): Promise<string>;
  /** The parent shard's context, byte for byte. */
  contextBuffer(): Promise<Buffer>;
  /** A pino child logger with swarm, type and taskId. */
  log: Logger;
  /** Aborted on timeout or when the lease is lost to another worker. */
  signal: AbortSignal;
  /**
   * Asks the swarm's assist pools for help and resolves with the first answer (a finding).
   * Rejects with AssistTimeoutError (code SWARM_ASSIST_TIMEOUT) when none answers in time.
   */
  askPeers(request: AssistRequest | string, options: AskPeersOptions): Promise<Finding>;
}

/** A finding, or a string that becomes `{ summary }`. */
export type HandlerResult = FindingInput | string;

export type Handler = (ctx: HandlerContext) => HandlerResult | Promise<HandlerResult>;
