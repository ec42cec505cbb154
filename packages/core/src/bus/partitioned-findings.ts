import { Observable, type Subscription } from 'rxjs';
import type { Clock, ClockTimer } from '../clock';
import { decodeFinding } from '../codec';
import { partitionName } from '../keys';
import type { Finding } from '../messages';
import { type FindingsFrom, readFindings$ } from './findings-reader';
import {
  firstAcrossPartitions,
  formatFindingsCursor,
  parseFindingsCursor,
  partitionedId,
  resumeAfter,
} from './partition-ids';
import type { PartitionTable } from './partition-table';
import type { Transport } from './transport';

/** How often a reader looks for partitions added since it started (a pool's N grown). */
const DISCOVER_MS = 3_000;

/** A finding as the swarm's readers see it: the swarm's name, and an id that names its partition. */
function asSwarmFinding(swarm: string, partition: number, finding: Finding): Finding {
  return { ...finding, swarm, id: partitionedId(partition, finding.id) };
}

/** Where partition `partition` starts, for a reader that starts at `from`. */
function partitionFrom(from: FindingsFrom, partition: number): FindingsFrom {
  if (typeof from !== 'string' || from === 'start' || from === 'now') return from;
  const entries = parseFindingsCursor(from);
  // Not a cursor: the one-stream reader says what it makes of it, as for any swarm.
  if (!entries) return partition === 0 ? from : 'start';
  return resumeAfter(entries, partition);
}

/**
 * Findings of every partition of a swarm, merged (docs/SCALING.md, Reading a partitioned swarm):
 * one gap-free reader per partition's stream, each in its order; no order across partitions. The
 * partitions are the widest of the swarm's task types, re-read every few seconds, so a partition
 * added later is read from its start. With one partition this is the plain reader.
 */
export function partitionedFindings$(
  transport: Transport,
  clock: Clock,
  table: PartitionTable,
  swarm: string,
  from: FindingsFrom,
): Observable<Finding> {
  return new Observable<Finding>((subscriber) => {
    const readers: Subscription[] = [];
    let timer: ClockTimer | undefined;
    let opened = 0;
    const openUpTo = (partitions: number, initial: boolean) => {
      for (; opened < partitions && !subscriber.closed; opened++) {
        const partition = opened;
        // A partition found later holds nothing older than the reader: all of it is new.
        const start = initial ? partitionFrom(from, partition) : 'start';
        const name = partitionName(swarm, partition);
        readers.push(
          readFindings$(transport, clock, name, start).subscribe({
            next: (finding) =>
              subscriber.next(partition === 0 ? finding : asSwarmFinding(swarm, partition, finding)),
            error: (error: unknown) => subscriber.error(error),
          }),
        );
      }
    };
    const discover = (initial: boolean) => {
      table.widest(swarm).then(
        (partitions) => openUpTo(partitions, initial),
        // Partition 0 is read whatever happens: a swarm that cannot say its partitions still has it.
        () => openUpTo(1, initial),
      );
      timer = clock.setTimeout(() => discover(false), DISCOVER_MS);
    };
    // Partition 0 at once, as a swarm was read before partitions: its doorbell is listening
    // before the first round trip, so nothing written meanwhile waits for the poll.
    openUpTo(1, true);
    discover(true);
    return () => {
      if (timer) clock.clearTimeout(timer);
      for (const reader of readers) reader.unsubscribe();
    };
  });
}

/** A page of stored findings of every partition after `after` (a cursor or one id), merged in id order. */
export async function readPartitionedFindings(
  transport: Transport,
  swarm: string,
  partitions: number,
  after: string | undefined,
  count: number,
): Promise<Finding[]> {
  const entries = after === undefined ? undefined : parseFindingsCursor(after);
  const pages = await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      const position = entries ? resumeAfter(entries, partition) : undefined;
      const from = position === undefined ? { start: '-' } : { after: position };
      const page = await transport.readFindings(partitionName(swarm, partition), from, count);
      return page.map((entry) => ({ partition, entry }));
    }),
  );
  return firstAcrossPartitions(pages, count).map(({ partition, entry }) =>
    asSwarmFinding(swarm, partition, decodeFinding(swarm, entry.id, entry.fields)),
  );
}

/** The cursor at each partition's newest finding: `findings$(S, { from })` with it reads only what comes next. */
export async function lastPartitionedFindingId(
  transport: Transport,
  swarm: string,
  partitions: number,
): Promise<string> {
  const ids = await Promise.all(
    Array.from({ length: partitions }, (_, partition) =>
      transport.lastFindingId(partitionName(swarm, partition)),
    ),
  );
  return formatFindingsCursor(new Map(ids.map((id, partition) => [partition, id])));
}
