/** @swarm/worker: worker pools that claim a task, run a handler on it, report a finding and forget. */
export { type RunOnceOptions, type RunOnceResult, runOnce } from './once';
export { WorkerPool, type WorkerPoolOptions } from './pool';
export { resolveHandler } from './resolve';
export type { Handler, HandlerContext, HandlerResult } from './types';
