import { describe, expect, it } from 'vitest';
import { printable } from '../printable';
import { formatFinding, parseFrom } from './findings';

describe('findings --from (issue #12)', () => {
  it('refuses a span reaching before the earliest date, rather than reading it as no findings', () => {
    expect(parseFrom('5m')).toBeInstanceOf(Date);
    expect(() => parseFrom('99999999999999d')).toThrow(/--from must be .*got 99999999999999d/);
  });
});

describe('a finding on a terminal', () => {
  it('shows control characters of its text escaped, not sent: a summary cannot rewrite the screen', () => {
    const line = formatFinding({
      id: '1700000000000-0',
      swarm: 'research',
      taskId: 't\u001b]0;pwned\u0007',
      type: 'note',
      summary: 'two\nlines \u001b[2J\u001b[H cleared \u009b31m',
      data: null,
      workerId: 'w\r1',
      attempt: 1,
      tags: [],
      createdAt: 1_700_000_000_000,
      contextVersion: undefined,
      parent: undefined,
    });
    expect(printable(line)).toBe(line);
    expect(line).toContain('two\nlines \\x1b[2J\\x1b[H cleared \\x9b31m');
    expect(line).toContain('task t\\x1b]0;pwned\\x07  worker w\\x0d1');
  });
});
