import { describe, expect, it } from 'vitest';
import {
  advanceFindingsCursor,
  findingsCursorHolds,
  findingsCursorReached,
  jumpHash,
  parseFindingsCursor,
  resumeAfter,
  splitPartitionedId,
} from './partition-ids';

describe('partition ids (docs/PROTOCOL.md, Partitions)', () => {
  it('names the partition of p:<id>, and partition 0 for a plain stream id', () => {
    expect(splitPartitionedId('1700-3')).toEqual({ partition: 0, id: '1700-3' });
    expect(splitPartitionedId('2:1700-3')).toEqual({ partition: 2, id: '1700-3' });
    for (const bad of ['0:1700-3', '01:1700-3', 'x:1-1', '1700', '2:', ''])
      expect(splitPartitionedId(bad), bad).toBeUndefined();
  });

  it('advances a cursor per partition, never back', () => {
    let cursor = advanceFindingsCursor(undefined, '5-0');
    cursor = advanceFindingsCursor(cursor, '2:7-0');
    cursor = advanceFindingsCursor(cursor, '2:6-0');
    cursor = advanceFindingsCursor(cursor, '1:3-0');
    expect(cursor).toBe('5-0,1:3-0,2:7-0');
    expect(findingsCursorHolds(cursor, '2:6-0')).toBe(true);
    expect(findingsCursorHolds(cursor, '1:4-0')).toBe(false);
    expect(findingsCursorReached(cursor, '5-0,2:7-0')).toBe(true);
    expect(findingsCursorReached(cursor, '5-0,1:3-1')).toBe(false);
    // Plain ids compare as stream ids did before partitions.
    expect(findingsCursorReached('10-0', '9-5')).toBe(true);
    expect(findingsCursorReached('9-5', '10-0')).toBe(false);
  });

  it('resumes a partition a cursor does not name at its furthest position', () => {
    const cursor = parseFindingsCursor('1:10-4') as Map<number, string>;
    expect(resumeAfter(cursor, 1)).toBe('10-4');
    // Before partition 1 in merge order: after the same id; after it, from that id itself.
    expect(resumeAfter(cursor, 0)).toBe('10-4');
    expect(resumeAfter(cursor, 2)).toBe('10-3');
    expect(resumeAfter(parseFindingsCursor('1:10-0') as Map<number, string>, 2)).toBe(
      '9-18446744073709551615',
    );
  });
});

describe('jumpHash (Lamping and Veach, keyed by SHA-1)', () => {
  it('gives the values another language must reproduce', () => {
    expect([jumpHash('a', 3), jumpHash('b', 3), jumpHash('order-42', 8), jumpHash('k-1', 256)]).toEqual([
      0, 1, 4, 108,
    ]);
  });

  it('spreads keys evenly, and moves only the keys the new partition takes when N grows', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) counts[jumpHash(`k${i}`, 3)] = (counts[jumpHash(`k${i}`, 3)] ?? 0) + 1;
    for (const n of counts) expect(n).toBeGreaterThan(850);
    let moved = 0;
    for (let i = 0; i < 3_000; i++) {
      const before = jumpHash(`k${i}`, 10);
      const after = jumpHash(`k${i}`, 11);
      if (before !== after) {
        moved++;
        expect(after).toBe(10);
      }
    }
    expect(moved).toBeGreaterThan(150);
    expect(moved).toBeLessThan(420);
  });
});
