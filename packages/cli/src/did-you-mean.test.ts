import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './did-you-mean';

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('alpah', 'alpha')).toBe(1);
    expect(editDistance('status', 'status')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests a near name or a unique prefix, and nothing for a stranger', () => {
    const verbs = ['run', 'validate', 'post', 'worker', 'findings', 'status', 'dlq'];
    expect(closest('stauts', verbs)).toBe('status');
    expect(closest('findigns', verbs)).toBe('findings');
    expect(closest('valid', verbs)).toBe('validate');
    expect(closest('launch', verbs)).toBeUndefined();
    expect(closest('x', verbs)).toBeUndefined();
  });
});
