import { SwarmError } from '@swarm/core';

/** Errors the shard throws on purpose, each with a stable `code`. */
export type ShardErrorCode =
  | 'SWARM_GATHER_TIMEOUT'
  | 'SWARM_CONTEXT_FILES_MISSING'
  | 'SWARM_CONTEXT_SOURCE_EMPTY'
  | 'SWARM_SHARD_NOT_STARTED'
  | 'SWARM_SHARD_STOPPED';

export class ShardError extends SwarmError<ShardErrorCode> {}

/** gather() ran out of time with some tasks neither completed nor dead-lettered. */
export class GatherTimeoutError extends ShardError {
  readonly timeoutMs: number;
  readonly total: number;
  /** Ids of the tasks still open, in input order. */
  readonly openTaskIds: string[];
  constructor(shard: string, timeoutMs: number, total: number, openTaskIds: string[]) {
    super(
      'SWARM_GATHER_TIMEOUT',
      `shard ${shard}: gather timed out after ${timeoutMs} ms with ${openTaskIds.length} of ${total} tasks still open`,
    );
    this.timeoutMs = timeoutMs;
    this.total = total;
    this.openTaskIds = openTaskIds;
  }

  get open(): number {
    return this.openTaskIds.length;
  }
}

/** A context file pattern matched no file. */
export class ContextFilesMissingError extends ShardError {
  readonly pattern: string;
  readonly baseDir: string;
  constructor(pattern: string, baseDir: string) {
    super(
      'SWARM_CONTEXT_FILES_MISSING',
      `context file pattern ${JSON.stringify(pattern)} matches no file under ${baseDir}`,
    );
    this.pattern = pattern;
    this.baseDir = baseDir;
  }
}

export class EmptyContextSourceError extends ShardError {
  constructor(shard: string) {
    super('SWARM_CONTEXT_SOURCE_EMPTY', `shard ${shard}: loadContext needs text, files, or both`);
  }
}

export class ShardNotStartedError extends ShardError {
  constructor(shard: string) {
    super('SWARM_SHARD_NOT_STARTED', `shard ${shard} is not started: call start() first`);
  }
}

export class ShardStoppedError extends ShardError {
  constructor(shard: string) {
    super('SWARM_SHARD_STOPPED', `shard ${shard} is stopped`);
  }
}
