import { describe, expect, it } from 'vitest';
import { parseFrom } from './findings';

describe('findings --from (issue #12)', () => {
  it('refuses a span reaching before the earliest date, rather than reading it as no findings', () => {
    expect(parseFrom('5m')).toBeInstanceOf(Date);
    expect(() => parseFrom('99999999999999d')).toThrow(/--from must be .*got 99999999999999d/);
  });
});
