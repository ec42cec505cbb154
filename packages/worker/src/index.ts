/** @swarm/worker: worker pools that claim a task, run a handler on it, report a finding and forget. */
export {
  ASSIST_REQUEST_TYPE,
  ASSIST_TYPE,
  type AskPeersOptions,
  type AssistRequest,
  AssistTimeoutError,
} from './assist';
export type { ModelSettings } from './llm/llm-handler';
export { checkModel } from './llm/model-check';
export { type RunOnceOptions, type RunOnceResult, runOnce } from './once';
export { type PoolSpec, type SettledTask, WorkerPool, type WorkerPoolOptions } from './pool';
export { workerPoolActor, workerPoolActorWith } from './pool-actor';
export { type LlmPoolContext, resolveHandler } from './resolve';
export type { AfterFailure, TaskOutcome } from './run-task';
export { TaskDeferredError, UnretryableError } from './task-errors';
export type { Handler, HandlerContext, HandlerResult } from './types';
