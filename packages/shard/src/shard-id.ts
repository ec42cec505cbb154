import { InvalidNameError } from '@swarm/core';

/** The rule core applies to swarm names and the topology to shard ids (core's assertName takes no 'shard'). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertShardId(id: string): void {
  if (typeof id !== 'string' || !NAME.test(id)) throw new InvalidNameError('shard', String(id));
}
