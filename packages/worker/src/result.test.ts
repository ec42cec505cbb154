import { describe, expect, it } from 'vitest';
import { toError, toFinding } from './result';

const SHAPE = 'return a string or { summary, data? }';

describe('toFinding: what a handler returns becomes a finding, or a clear failure', () => {
  it('takes a string as the summary', () => {
    expect(toFinding('done')).toEqual({ summary: 'done' });
  });

  it('takes an object with a string summary, keeping data and contextVersion', () => {
    expect(toFinding({ summary: 's', data: { a: [1, 'x', null] }, contextVersion: 'v1', extra: 1 })).toEqual({
      summary: 's',
      data: { a: [1, 'x', null] },
      contextVersion: 'v1',
    });
  });

  it('stores data as plain JSON: what a reader gets back is what was stored', () => {
    const at = new Date(0);
    expect(toFinding({ summary: 's', data: { at, skipped: undefined } })).toEqual({
      summary: 's',
      data: { at: '1970-01-01T00:00:00.000Z' },
    });
  });

  it.each([
    [undefined, `handler returned undefined: ${SHAPE}`],
    [null, `handler returned null: ${SHAPE}`],
    [42, `handler returned a number (42): ${SHAPE}`],
    [true, `handler returned a boolean (true): ${SHAPE}`],
    [['a'], `handler returned an array (["a"]): ${SHAPE}`],
    [{ summary: 3 }, `handler returned an object without a string summary ({"summary":3}): ${SHAPE}`],
  ])('fails %j, saying what it got', (value, message) => {
    expect(() => toFinding(value)).toThrow(message);
  });

  it('fails data that is not JSON', () => {
    expect(() => toFinding({ summary: 's', data: 10n })).toThrow(/^handler returned data that is not JSON/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toFinding({ summary: 's', data: cyclic })).toThrow(
      /^handler returned data that is not JSON/,
    );
  });
});

describe('toError: whatever a handler throws reads well in a dead letter', () => {
  it.each([
    [new TypeError('bad type'), 'bad type'],
    ['a plain string', 'a plain string'],
    ['', 'handler threw an empty string'],
    [undefined, 'handler threw undefined'],
    [null, 'handler threw null'],
    [{ message: 'error-like' }, 'error-like'],
    [{ code: 42 }, 'handler threw a non-Error value: {"code":42}'],
    [7, 'handler threw a non-Error value: 7'],
  ])('%j', (thrown, message) => {
    expect(toError(thrown).message).toBe(message);
  });

  it('passes an Error through untouched', () => {
    const error = new RangeError('x');
    expect(toError(error)).toBe(error);
  });
});
