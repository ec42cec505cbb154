import { decodeDeadLetter, decodeFinding, encodeTask } from '../codec';
import { DeadLetterNotFoundError, InvalidTaskError } from '../errors';
import { assertName, MAX_PARTITIONS, partitionName } from '../keys';
import type { DeadLetter, Finding, Task, TaskTypeStatus } from '../messages';
import { jumpHash, splitPartitionedId } from './partition-ids';
import type { PartitionTable } from './partition-table';
import { lastPartitionedFindingId, readPartitionedFindings } from './partitioned-findings';
import { partitionedCounters, partitionedDeadLetters, partitionedStatus } from './partitioned-swarm';
import type { Transport } from './transport';

/**
 * A swarm as its partitions make it up (docs/SCALING.md): which partition a post goes to, and the
 * swarm-wide reads, merged or summed over the partitions. A swarm with one partition takes the
 * plain path, exactly as before partitions existed.
 */
export class SwarmPartitions {
  /** Per (swarm, type): the partition the next round-robin post goes to. */
  readonly #next = new Map<string, number>();

  constructor(
    private readonly transport: Transport,
    readonly table: PartitionTable,
  ) {}

  /** The partition name a post goes to: by its idempotency key's jump hash, else round-robin. */
  async postTarget(swarm: string, type: string, idempotencyKey?: string): Promise<string> {
    const partitions = await this.table.of(swarm, type);
    if (partitions <= 1) return swarm;
    if (idempotencyKey !== undefined) return partitionName(swarm, jumpHash(idempotencyKey, partitions));
    return partitionName(swarm, this.#roundRobin(swarm, type, partitions));
  }

  /**
   * Encoded tasks dealt round-robin over the partitions: one append each, atomic on its own, so
   * across partitions a batch is not all-or-nothing.
   */
  async split(swarm: string, type: string, tasks: string[]): Promise<Map<string, string[]>> {
    const partitions = await this.table.of(swarm, type);
    if (partitions <= 1) return new Map([[swarm, tasks]]);
    const byPartition = Array.from({ length: partitions }, (): string[] => []);
    for (const task of tasks) byPartition[this.#roundRobin(swarm, type, partitions)]?.push(task);
    return new Map(
      byPartition.flatMap((dealt, p) => (dealt.length > 0 ? [[partitionName(swarm, p), dealt]] : [])),
    );
  }

  #roundRobin(swarm: string, type: string, partitions: number): number {
    const key = `${swarm}/${type}`;
    // Each process starts at a random partition: a poster that sends one task and exits
    // (swarm post) would otherwise put every task on partition 0.
    const next = (this.#next.get(key) ?? Math.floor(Math.random() * partitions)) % partitions;
    this.#next.set(key, next + 1);
    return next;
  }

  async lastFindingId(swarm: string): Promise<string> {
    const partitions = await this.table.widest(swarm);
    if (partitions <= 1) return this.transport.lastFindingId(swarm);
    return lastPartitionedFindingId(this.transport, swarm, partitions);
  }

  async readFindings(swarm: string, after: string | undefined, count: number): Promise<Finding[]> {
    const partitions = await this.table.widest(swarm);
    if (partitions > 1) return readPartitionedFindings(this.transport, swarm, partitions, after, count);
    const entries = await this.transport.readFindings(swarm, after ? { after } : { start: '-' }, count);
    return entries.map((e) => decodeFinding(swarm, e.id, e.fields));
  }

  async deadLetters(swarm: string, count: number): Promise<DeadLetter[]> {
    const partitions = await this.table.widest(swarm);
    if (partitions > 1) return partitionedDeadLetters(this.transport, swarm, partitions, count);
    const entries = await this.transport.readDeadLetters(swarm, count);
    return entries.map((e) => decodeDeadLetter(swarm, e.id, e.fields));
  }

  /** A dead letter's id `p:<id>` names partition p's stream: the retry goes back to that partition. */
  async retryDeadLetter(swarm: string, id: string): Promise<Task> {
    const at = splitPartitionedId(id) ?? { partition: 0, id };
    const name = partitionName(swarm, at.partition);
    const entry = await this.transport.readDeadLetter(name, at.id);
    const letter = entry && decodeDeadLetter(swarm, id, entry.fields);
    if (!letter) throw new DeadLetterNotFoundError(swarm, id);
    if (!letter.task)
      throw new InvalidTaskError(`dead letter ${id} holds a malformed task and cannot be retried`);
    assertName('task type', letter.type);
    const task: Task = { ...letter.task, attempt: 1, errors: letter.errors };
    if (!(await this.transport.moveDeadLetter(name, at.id, letter.type, encodeTask(task))))
      throw new DeadLetterNotFoundError(swarm, id);
    return task;
  }

  async purgeDeadLetters(swarm: string): Promise<number> {
    const partitions = await this.table.widest(swarm);
    const purged = await Promise.all(
      Array.from({ length: partitions }, (_, p) => this.transport.purgeDeadLetters(partitionName(swarm, p))),
    );
    return purged.reduce((a, b) => a + b, 0);
  }

  async queues(swarm: string): Promise<{ types: TaskTypeStatus[]; findings: number; deadLetters: number }> {
    const partitions = await this.table.widest(swarm);
    if (partitions > 1) return partitionedStatus(this.transport, swarm, partitions);
    return this.transport.status(swarm);
  }

  async counters(swarm: string): Promise<Record<string, string>> {
    const partitions = await this.table.widest(swarm);
    if (partitions > 1) return partitionedCounters(this.transport, swarm, partitions);
    return this.transport.readCounters(swarm);
  }
}

export function assertPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS)
    throw new InvalidTaskError(
      `partitions must be a whole number from 1 to ${MAX_PARTITIONS}, got ${partitions}`,
    );
}
