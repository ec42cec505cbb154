import type { Clock } from '../clock';
import type { Transport } from './transport';

/**
 * How long a swarm's partitions hash is trusted before it is read again. Posters and readers
 * notice a pool's new N within this (docs/SCALING.md, Changing the number of partitions); an
 * unpartitioned swarm pays one HGETALL per swarm this often.
 */
const TRUST_MS = 3_000;

/** The partitions hash of each swarm (keys.partitions), read at most once per TRUST_MS. */
export class PartitionTable {
  readonly #read = new Map<string, { at: number; counts: Promise<Record<string, number>> }>();

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock,
  ) {}

  /** Task type → N, for the types declared partitioned. */
  counts(swarm: string): Promise<Record<string, number>> {
    const now = this.clock.now();
    const cached = this.#read.get(swarm);
    if (cached && now - cached.at < TRUST_MS) return cached.counts;
    const counts = this.transport.readPartitions(swarm);
    // A failed read is not remembered: the next call asks again.
    counts.catch(() => this.#read.delete(swarm));
    this.#read.set(swarm, { at: now, counts });
    return counts;
  }

  /** How many partitions (swarm, type) has: 1 unless declared. */
  async of(swarm: string, type: string): Promise<number> {
    return (await this.counts(swarm))[type] ?? 1;
  }

  /** The most partitions any type of the swarm has: how many findings and dead-letter streams it has. */
  async widest(swarm: string): Promise<number> {
    return Math.max(1, ...Object.values(await this.counts(swarm)));
  }

  /** Declares N for (swarm, type) and trusts it at once in this process. */
  async declare(swarm: string, type: string, partitions: number): Promise<void> {
    await this.transport.putPartitions(swarm, type, partitions);
    this.#read.delete(swarm);
  }
}
