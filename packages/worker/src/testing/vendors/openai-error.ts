import type { JsonObject } from './wire';

// https://platform.openai.com/docs/guides/error-codes: every error is { error: { message, type, param, code } }.

const ERRORS: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  404: ['invalid_request_error', null, 'Not found'],
  429: [
    'requests',
    'rate_limit_exceeded',
    'Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Visit https://platform.openai.com/account/rate-limits to learn more.',
  ],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', null, 'The server is overloaded or not ready yet.'],
};

/** The `error` object of an OpenAI error body or error chunk. */
export function openaiErrorOf(status: number, message?: string): JsonObject {
  const [type, code, standard] = ERRORS[status] ?? (status >= 500 ? ERRORS[500]! : ERRORS[400]!);
  return { message: message ?? standard, type, param: null, code };
}
