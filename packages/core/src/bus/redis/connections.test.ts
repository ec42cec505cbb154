import { describe, expect, it } from 'vitest';
import { redactUrl } from './connections';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('redis://app:s3cret@cache.internal:6380/2')).toBe(
      'redis://app:***@cache.internal:6380/2',
    );
  });
  it('hides a password given without a user', () => {
    expect(redactUrl('rediss://:hunter2@host:6379')).not.toContain('hunter2');
  });
  it('leaves a URL without credentials alone', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
