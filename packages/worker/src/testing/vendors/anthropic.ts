import type { JsonValue } from '@swarm/core';
import type { FakeUsage } from '../types';
import {
  type Answer,
  type Endpoint,
  type HttpAnswer,
  isObject,
  type JsonObject,
  paddedId,
  type RequestFacts,
  type StreamFrames,
  sseFrame,
  stringField,
  textOf,
  type Vendor,
} from './wire';

// The Messages API: https://docs.anthropic.com/en/api/messages and …/messages-streaming.

/** Anthropic's error types by status (https://docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not Found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: [
    'rate_limit_error',
    'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.',
  ],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

function errorOf(status: number, message?: string): JsonObject {
  const [type, standard] = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
  return { type, message: message ?? standard };
}

function errorBody(status: number, message?: string): JsonObject {
  return { type: 'error', error: errorOf(status, message), request_id: `req_fake${Date.now().toString(36)}` };
}

function requestId(): Record<string, string> {
  return { 'request-id': `req_fake${Date.now().toString(36)}` };
}

function answer(status: number, body: JsonValue, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { ...requestId(), ...headers }, body };
}

function wireUsage(usage: FakeUsage): JsonObject {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
    output_tokens: usage.outputTokens,
    ...(usage.reasoningTokens > 0 && { output_tokens_details: { thinking_tokens: usage.reasoningTokens } }),
    service_tier: 'standard',
  };
}

function stopReason(answer: Answer): string {
  if (answer.finishReason === 'length') return 'max_tokens';
  return answer.asJsonTool ? 'tool_use' : 'end_turn';
}

function messageId(answer: Answer): string {
  return `msg_fake${paddedId(answer.seq)}`;
}

function toolUseId(answer: Answer): string {
  return `toolu_fake${paddedId(answer.seq)}`;
}

function read(body: JsonObject): RequestFacts {
  const userMessages: string[] = [];
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (isObject(message) && message.role === 'user') userMessages.push(textOf(message.content));
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  // The AI SDK's structured output is either native (`output_config.format`) or, for models
  // without it, a forced tool named `json` whose input is the object.
  const jsonTool = tools.find((tool) => isObject(tool) && tool.name === 'json');
  const format = isObject(body.output_config) ? body.output_config.format : undefined;
  const nativeSchema = isObject(format) && format.type === 'json_schema' ? format.schema : undefined;
  const schema = isObject(jsonTool) ? jsonTool.input_schema : nativeSchema;
  return {
    model: stringField(body, 'model'),
    stream: body.stream === true,
    system: textOf(body.system),
    userMessages,
    structured: schema !== undefined,
    ...(schema !== undefined && { schema }),
    jsonTool: jsonTool !== undefined,
    includeUsage: true,
  };
}

function respond(answer: Answer): JsonValue {
  const content: JsonValue = answer.asJsonTool
    ? [{ type: 'tool_use', id: toolUseId(answer), name: 'json', input: JSON.parse(answer.text) as JsonValue }]
    : [{ type: 'text', text: answer.text }];
  return {
    id: messageId(answer),
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content,
    stop_reason: stopReason(answer),
    stop_sequence: null,
    usage: wireUsage(answer.usage),
  };
}

function stream(answer: Answer): StreamFrames {
  const usage = wireUsage(answer.usage);
  const block: JsonObject = answer.asJsonTool
    ? { type: 'tool_use', id: toolUseId(answer), name: 'json', input: {} }
    : { type: 'text', text: '' };
  const head =
    sseFrame(
      {
        type: 'message_start',
        message: {
          id: messageId(answer),
          type: 'message',
          role: 'assistant',
          model: answer.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      },
      'message_start',
    ) +
    sseFrame({ type: 'content_block_start', index: 0, content_block: block }, 'content_block_start') +
    sseFrame({ type: 'ping' }, 'ping');
  const outputUsage: JsonObject = { output_tokens: answer.usage.outputTokens };
  if (usage.output_tokens_details !== undefined)
    outputUsage.output_tokens_details = usage.output_tokens_details;
  return {
    head,
    delta: (piece) =>
      sseFrame(
        {
          type: 'content_block_delta',
          index: 0,
          delta: answer.asJsonTool
            ? { type: 'input_json_delta', partial_json: piece }
            : { type: 'text_delta', text: piece },
        },
        'content_block_delta',
      ),
    tail:
      sseFrame({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
      sseFrame(
        {
          type: 'message_delta',
          delta: { stop_reason: stopReason(answer), stop_sequence: null },
          usage: outputUsage,
        },
        'message_delta',
      ) +
      sseFrame({ type: 'message_stop' }, 'message_stop'),
    // Mid-stream overload arrives as an event after HTTP 200, where a request would have had 529.
    error: (status) => sseFrame({ type: 'error', error: errorOf(status) }, 'error'),
  };
}

const messages: Endpoint = { name: 'anthropic.messages', read, respond, stream };

export const anthropic: Vendor = {
  kind: 'anthropic',
  basePath: '/v1',
  overloadedStatus: 529,
  responseHeaders: requestId,
  keyHeaders: ['x-api-key', 'authorization'],
  endpoint: (method, url) => (method === 'POST' && url.pathname === '/v1/messages' ? messages : undefined),
  apiKey: (headers) => {
    const key = headers['x-api-key'];
    if (typeof key === 'string') return key;
    // The provider's `authToken` sends `Authorization: Bearer` instead (OAuth, gateways).
    const authorization = headers.authorization;
    return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
  },
  unauthorized: (given) =>
    answer(401, errorBody(401, given ? 'invalid x-api-key' : 'x-api-key header is required')),
  notFound: () => answer(404, errorBody(404)),
  badRequest: (message) => answer(400, errorBody(400, message)),
  check: (headers, body) => {
    if (typeof headers['anthropic-version'] !== 'string')
      return answer(400, errorBody(400, 'anthropic-version: header is required'));
    for (const field of ['model', 'max_tokens', 'messages'])
      if (body[field] === undefined) return answer(400, errorBody(400, `${field}: Field required`));
    return undefined;
  },
  error: (status, { retryAfterS, message }) => {
    const headers: Record<string, string> = {};
    if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS);
    if (status === 429) {
      headers['anthropic-ratelimit-requests-limit'] = '50';
      headers['anthropic-ratelimit-requests-remaining'] = '0';
      headers['anthropic-ratelimit-requests-reset'] = new Date(
        Date.now() + (retryAfterS ?? 1) * 1000,
      ).toISOString();
    }
    return answer(status, errorBody(status, message), headers);
  },
};
