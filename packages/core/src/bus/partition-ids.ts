import { createHash } from 'node:crypto';
import { compareIds } from './stream-id';

/**
 * The ids a partitioned swarm's readers hand out (docs/PROTOCOL.md, Partitions). A finding or a
 * dead letter of partition p ≥ 1 has the id `p:<stream id>`, so the id alone says which stream
 * holds it; partition 0's ids are plain stream ids, so an unpartitioned swarm's ids never change.
 */

const PARTITIONED_ID = /^(?:([1-9]\d{0,2}):)?(\d{1,20}-\d{1,20})$/;

export interface PartitionedId {
  partition: number;
  /** The id in the partition's own stream. */
  id: string;
}

export function partitionedId(partition: number, id: string): string {
  return partition === 0 ? id : `${partition}:${id}`;
}

/** The partition and stream id of `p:<id>` or `<id>`; undefined when it is neither. */
export function splitPartitionedId(id: string): PartitionedId | undefined {
  const match = PARTITIONED_ID.exec(id);
  if (!match) return undefined;
  return { partition: match[1] === undefined ? 0 : Number(match[1]), id: match[2] as string };
}

/** Merge order across partitions: by stream id (each primary's clock), then by partition. */
export function comparePartitioned(a: PartitionedId, b: PartitionedId): number {
  return compareIds(a.id, b.id) || a.partition - b.partition;
}

/**
 * The first `count` entries of every partition's page together, in id order (partition breaking
 * ties): what a reader of the merged partitions is handed first.
 */
export function firstAcrossPartitions<E extends { id: string }>(
  pages: { partition: number; entry: E }[][],
  count: number,
): { partition: number; entry: E }[] {
  return pages
    .flat()
    .sort((a, b) =>
      comparePartitioned(
        { partition: a.partition, id: a.entry.id },
        { partition: b.partition, id: b.entry.id },
      ),
    )
    .slice(0, count);
}

/**
 * A findings cursor: one id per partition, comma-separated (`<id0>,1:<id1>,2:<id2>`), as
 * lastFindingId gives for a partitioned swarm. Undefined when `cursor` is not one.
 */
export function parseFindingsCursor(cursor: string): Map<number, string> | undefined {
  const entries = new Map<number, string>();
  for (const part of cursor.split(',')) {
    const parsed = splitPartitionedId(part.trim());
    if (!parsed) return undefined;
    const known = entries.get(parsed.partition);
    if (known === undefined || compareIds(parsed.id, known) > 0) entries.set(parsed.partition, parsed.id);
  }
  return entries;
}

export function formatFindingsCursor(entries: Map<number, string>): string {
  return [...entries]
    .sort(([a], [b]) => a - b)
    .map(([partition, id]) => partitionedId(partition, id))
    .join(',');
}

/**
 * The cursor after `findingId` was taken (never moved back): a reader of a partitioned swarm that keeps it resumes
 * exactly where it stopped in every partition (`findings$(S, { from: cursor })`).
 */
export function advanceFindingsCursor(cursor: string | undefined, findingId: string): string {
  const entries = (cursor && parseFindingsCursor(cursor)) || new Map<number, string>();
  const taken = splitPartitionedId(findingId);
  if (!taken) return cursor ?? findingId;
  const known = entries.get(taken.partition);
  if (known === undefined || compareIds(taken.id, known) > 0) entries.set(taken.partition, taken.id);
  return formatFindingsCursor(entries);
}

/** True when `cursor` is at or past finding `findingId` in the finding's partition. */
export function findingsCursorHolds(cursor: string, findingId: string): boolean {
  const at = splitPartitionedId(findingId);
  const own = at && parseFindingsCursor(cursor)?.get(at.partition);
  return at !== undefined && own !== undefined && compareIds(at.id, own) <= 0;
}

/** True when `cursor` is at or past `upTo` in every partition `upTo` names (a reader caught up). */
export function findingsCursorReached(cursor: string, upTo: string): boolean {
  const target = parseFindingsCursor(upTo);
  const at = parseFindingsCursor(cursor);
  if (!target || !at) return false;
  for (const [partition, id] of target) {
    const own = at.get(partition);
    if (id !== '0-0' && (own === undefined || compareIds(own, id) < 0)) return false;
  }
  return true;
}

/**
 * Where partition `partition` resumes for a cursor: after the id the cursor names for it; a
 * partition it does not name resumes at the cursor's furthest position in merge order, so one
 * finding's id alone means "everything after this finding" across partitions (exact when the
 * primaries' clocks agree: see docs/SCALING.md).
 */
export function resumeAfter(entries: Map<number, string>, partition: number): string {
  const own = entries.get(partition);
  if (own !== undefined) return own;
  let furthest: PartitionedId | undefined;
  for (const [p, id] of entries) {
    const position = { partition: p, id };
    if (!furthest || comparePartitioned(position, furthest) > 0) furthest = position;
  }
  if (!furthest) return '0-0';
  return partition > furthest.partition ? idBefore(furthest.id) : furthest.id;
}

/** The greatest stream id below `id`: reading after it starts at `id` itself. */
function idBefore(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`;
  if (ms === '0') return '0-0';
  return `${BigInt(ms) - 1n}-18446744073709551615`;
}

const JUMP_MULTIPLIER = 2862933555777941757n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * Jump consistent hash (Lamping and Veach, 2014) of a key over `buckets` partitions, keyed by the
 * first 8 bytes of the key's SHA-1 (big-endian): a key keeps its partition when N grows, unless it
 * is among the fewest keys that must move. Another language computes the same from this recipe.
 */
export function jumpHash(key: string, buckets: number): number {
  let state = createHash('sha1').update(key).digest().readBigUInt64BE(0);
  let b = -1n;
  let j = 0n;
  const n = BigInt(buckets);
  while (j < n) {
    b = j;
    state = (state * JUMP_MULTIPLIER + 1n) & MASK_64;
    j = ((b + 1n) * (1n << 31n)) / ((state >> 33n) + 1n);
  }
  return Number(b);
}
