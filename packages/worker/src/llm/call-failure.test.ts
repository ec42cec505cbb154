import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { callFailure, retryAfterMs } from './call-failure';

const apiError = (
  statusCode: number,
  extra: { headers?: Record<string, string>; body?: string; message?: string } = {},
) =>
  new APICallError({
    message: extra.message ?? 'vendor says no',
    url: 'http://vendor.test/v1/messages',
    requestBodyValues: {},
    statusCode,
    ...(extra.headers ? { responseHeaders: extra.headers } : {}),
    ...(extra.body ? { responseBody: extra.body } : {}),
  });

describe('retryAfterMs', () => {
  it('reads Retry-After in seconds or as a date, retry-after-ms, and Gemini’s RetryInfo', () => {
    expect(retryAfterMs({ 'retry-after': '7' }, undefined)).toBe(7_000);
    expect(
      retryAfterMs(
        { 'Retry-After': 'Thu, 01 Jan 2026 00:00:30 GMT' },
        undefined,
        Date.parse('2026-01-01T00:00:00Z'),
      ),
    ).toBe(30_000);
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '1' }, undefined)).toBe(250);
    expect(
      retryAfterMs(
        {},
        '{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12.5s"}]}}',
      ),
    ).toBe(12_500);
    expect(retryAfterMs({}, '{}')).toBeUndefined();
  });
});

describe('callFailure', () => {
  it('sorts vendor statuses into what falls back and what fails the attempt', () => {
    const kinds = [429, 529, 503, 500, 502, 408, 400, 401, 404].map(
      (s) => callFailure('m:x', apiError(s), false, []).kind,
    );
    expect(kinds).toEqual([
      'rate-limited',
      'overloaded',
      'overloaded',
      'server',
      'server',
      'timeout',
      'refused',
      'refused',
      'refused',
    ]);
  });

  it('takes a 429 for a spent quota as a refusal: waiting never ends it', () => {
    const quota = apiError(429, {
      body: '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}',
    });
    expect(callFailure('openai:gpt-4.1-mini', quota, false, []).kind).toBe('refused');
  });

  it('keeps the wait a 429 asks for', () => {
    expect(
      callFailure('m:x', apiError(429, { headers: { 'retry-after': '3' } }), false, []).retryAfterMs,
    ).toBe(3_000);
  });

  it('calls a broken stream cut, and no response at all unreachable', () => {
    const broken = new APICallError({
      message: 'Failed to process successful response',
      url: 'u',
      requestBodyValues: {},
      statusCode: 200,
    });
    expect(callFailure('m:x', broken, true, []).kind).toBe('cut');
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    expect(callFailure('m:x', refused, false, [])).toMatchObject({
      kind: 'unreachable',
      message: 'm:x: no response: fetch failed (ECONNREFUSED)',
    });
    expect(callFailure('m:x', { type: 'overloaded_error', message: 'Overloaded' }, true, []).kind).toBe(
      'overloaded',
    );
  });

  it('scrubs a key a vendor quotes back', () => {
    const failure = callFailure('m:x', apiError(500, { message: 'bad key sk-secret-123' }), false, [
      'sk-secret-123',
    ]);
    expect(failure.message).toBe('m:x: 500 bad key <redacted>');
  });
});
