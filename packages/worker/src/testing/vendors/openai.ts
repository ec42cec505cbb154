import type { JsonValue } from '@swarm/core';
import { openaiChat } from './openai-chat';
import { openaiErrorOf } from './openai-error';
import { openaiResponses } from './openai-responses';
import type { HttpAnswer, Vendor } from './wire';

function requestId(): Record<string, string> {
  return { 'x-request-id': `req_fake${Date.now().toString(36)}` };
}

function answer(status: number, body: JsonValue, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { ...requestId(), ...headers }, body };
}

export const openai: Vendor = {
  kind: 'openai',
  basePath: '/v1',
  overloadedStatus: 503,
  responseHeaders: requestId,
  keyHeaders: ['authorization'],
  endpoint: (method, url) => {
    if (method !== 'POST') return undefined;
    if (url.pathname === '/v1/chat/completions') return openaiChat;
    // `openai(model)` in AI SDK 5+ is the Responses API; `openai.chat(model)` is chat completions.
    if (url.pathname === '/v1/responses') return openaiResponses;
    return undefined;
  },
  apiKey: (headers) => {
    const authorization = headers.authorization;
    return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
  },
  unauthorized: (given) =>
    answer(401, {
      error: given
        ? openaiErrorOf(
            401,
            `Incorrect API key provided: ${given.slice(0, 3)}***${given.slice(-3)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          )
        : {
            message:
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
    }),
  notFound: (method, url) =>
    answer(404, { error: openaiErrorOf(404, `Invalid URL (${method} ${url.pathname})`) }),
  badRequest: (message) => answer(400, { error: openaiErrorOf(400, message) }),
  check: (_headers, body, endpoint) => {
    const required = endpoint === openaiChat ? ['model', 'messages'] : ['model'];
    for (const field of required)
      if (body[field] === undefined)
        return answer(400, { error: openaiErrorOf(400, `Missing required parameter: '${field}'.`) });
    return undefined;
  },
  error: (status, { retryAfterS, message }) => {
    const headers: Record<string, string> = {};
    if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS);
    if (status === 429) {
      headers['x-ratelimit-limit-requests'] = '500';
      headers['x-ratelimit-remaining-requests'] = '0';
      headers['x-ratelimit-reset-requests'] = `${retryAfterS ?? 1}s`;
    }
    return answer(status, { error: openaiErrorOf(status, message) }, headers);
  },
};
