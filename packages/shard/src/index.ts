/** @swarm/shard: the persistent actor that holds a context, posts tasks and takes in findings. */
export { type ContextSource, unmatchedPatterns } from './context-source';
export {
  ContextFilesMissingError,
  EmptyContextSourceError,
  GatherTimeoutError,
  ShardError,
  type ShardErrorCode,
  ShardNotStartedError,
  ShardStoppedError,
} from './errors';
export { Shard } from './shard';
export { shardActor } from './shard-actor';
export type { GatherOptions, GatherResult, ShardFinding, ShardOptions, ShardTaskInput } from './types';
