import { decodeDeadLetter } from '../codec';
import { partitionName } from '../keys';
import type { DeadLetter, TaskTypeStatus } from '../messages';
import { firstAcrossPartitions, partitionedId } from './partition-ids';
import type { Transport } from './transport';

/**
 * The swarm-wide views of a partitioned swarm, each the sum or merge of its partitions'
 * (docs/SCALING.md): every one reads `partitions` swarms named S, S#1, …, S#(N-1).
 */

const each = <T>(partitions: number, read: (name: string, partition: number) => Promise<T>, swarm: string) =>
  Promise.all(Array.from({ length: partitions }, (_, p) => read(partitionName(swarm, p), p)));

/** Dead letters of every partition, merged in id order; a letter of partition p ≥ 1 has the id `p:<id>`. */
export async function partitionedDeadLetters(
  transport: Transport,
  swarm: string,
  partitions: number,
  count: number,
): Promise<DeadLetter[]> {
  const pages = await each(
    partitions,
    async (name, partition) =>
      (await transport.readDeadLetters(name, count)).map((entry) => ({ partition, entry })),
    swarm,
  );
  return firstAcrossPartitions(pages, count).map(({ partition, entry }) =>
    decodeDeadLetter(swarm, partitionedId(partition, entry.id), entry.fields),
  );
}

/**
 * Queue depths summed per task type over the partitions. A worker reads every partition under one
 * consumer name, so `consumers` is the most any partition has, not the sum.
 */
export async function partitionedStatus(
  transport: Transport,
  swarm: string,
  partitions: number,
): Promise<{ types: TaskTypeStatus[]; findings: number; deadLetters: number }> {
  const all = await each(partitions, (name) => transport.status(name), swarm);
  const types = new Map<string, TaskTypeStatus>();
  for (const status of all)
    for (const t of status.types) {
      const sum = types.get(t.type);
      if (!sum) types.set(t.type, { ...t });
      else {
        sum.waiting += t.waiting;
        sum.inFlight += t.inFlight;
        sum.delayed += t.delayed;
        sum.consumers = Math.max(sum.consumers, t.consumers);
        sum.oldestAgeMs = Math.max(sum.oldestAgeMs, t.oldestAgeMs);
      }
    }
  return {
    types: [...types.values()].sort((a, b) => (a.type < b.type ? -1 : 1)),
    findings: all.reduce((n, s) => n + s.findings, 0),
    deadLetters: all.reduce((n, s) => n + s.deadLetters, 0),
  };
}

/** The counters hashes of the partitions, added field by field (costUsd is a float sum). */
export async function partitionedCounters(
  transport: Transport,
  swarm: string,
  partitions: number,
): Promise<Record<string, string>> {
  const sums = new Map<string, number>();
  for (const hash of await each(partitions, (name) => transport.readCounters(name), swarm))
    for (const [field, value] of Object.entries(hash))
      sums.set(field, (sums.get(field) ?? 0) + Number(value));
  return Object.fromEntries([...sums].map(([field, n]) => [field, String(n)]));
}
