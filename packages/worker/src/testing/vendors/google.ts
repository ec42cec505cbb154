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
  textOf,
  type Vendor,
} from './wire';

// The Gemini API: https://ai.google.dev/api/generate-content; errors are google.rpc.Status
// (https://ai.google.dev/gemini-api/docs/troubleshooting).

const ROUTE = /^\/v1beta\/(.+):(generateContent|streamGenerateContent)$/;

const STATUSES: Record<number, [status: string, message: string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: [
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  ],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'The request timed out. Please try again.'],
};

function statusOf(code: number, message?: string, details?: JsonValue[]): JsonObject {
  const [status, standard] = STATUSES[code] ?? (code >= 500 ? STATUSES[500]! : STATUSES[400]!);
  return { code, message: message ?? standard, status, ...(details !== undefined && { details }) };
}

function answer(code: number, error: JsonObject, headers: Record<string, string> = {}): HttpAnswer {
  return { status: code, headers, body: { error } };
}

function wireUsage(usage: FakeUsage, final: boolean): JsonObject {
  const prompt = {
    promptTokenCount: usage.inputTokens,
    ...(usage.cachedInputTokens > 0 && { cachedContentTokenCount: usage.cachedInputTokens }),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.inputTokens }],
  };
  // Chunks before the last carry the prompt's count; the last one has the candidates' and thoughts'.
  if (!final) return { ...prompt, totalTokenCount: usage.inputTokens };
  return {
    ...prompt,
    candidatesTokenCount: usage.outputTokens - usage.reasoningTokens,
    ...(usage.reasoningTokens > 0 && { thoughtsTokenCount: usage.reasoningTokens }),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
}

function read(body: JsonObject, url: URL): RequestFacts {
  const [, path = '', method = ''] = ROUTE.exec(url.pathname) ?? [];
  const userMessages: string[] = [];
  for (const content of Array.isArray(body.contents) ? body.contents : []) {
    if (isObject(content) && (content.role === 'user' || content.role === undefined))
      userMessages.push(textOf(content.parts));
  }
  const config = isObject(body.generationConfig) ? body.generationConfig : {};
  const schema = config.responseSchema ?? config.responseJsonSchema;
  return {
    model: path.startsWith('models/') ? path.slice('models/'.length) : path,
    stream: method === 'streamGenerateContent',
    system: isObject(body.systemInstruction) ? textOf(body.systemInstruction.parts) : '',
    userMessages,
    structured: config.responseMimeType === 'application/json',
    ...(schema !== undefined && { schema }),
    jsonTool: false,
    includeUsage: true,
  };
}

function finishReason(answer: Answer): string {
  return answer.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
}

function chunk(answer: Answer, text: string, final: boolean): JsonObject {
  return {
    candidates: [
      {
        content: { parts: [{ text }], role: 'model' },
        ...(final && { finishReason: finishReason(answer) }),
        index: 0,
      },
    ],
    usageMetadata: wireUsage(answer.usage, final),
    modelVersion: answer.model,
    responseId: `fake${paddedId(answer.seq)}`,
  };
}

function respond(answer: Answer): JsonValue {
  return chunk(answer, answer.text, true);
}

/** Gemini's server-sent events end with CRLF CRLF. */
function frame(data: JsonValue): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

function stream(answer: Answer): StreamFrames {
  return {
    head: '',
    delta: (piece) => frame(chunk(answer, piece, false)),
    // The real API often closes with an empty text part that carries the finish reason and usage.
    tail: frame(chunk(answer, '', true)),
    error: (code) => frame({ error: statusOf(code) }),
  };
}

const generateContent: Endpoint = { name: 'google.generateContent', read, respond, stream };
const streamGenerateContent: Endpoint = { name: 'google.streamGenerateContent', read, respond, stream };

function retryInfo(retryAfterS: number): JsonValue[] {
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterS}s` },
  ];
}

export const google: Vendor = {
  kind: 'google',
  basePath: '/v1beta',
  overloadedStatus: 503,
  responseHeaders: () => ({}),
  keyHeaders: ['x-goog-api-key'],
  endpoint: (method, url) => {
    const match = method === 'POST' ? ROUTE.exec(url.pathname) : null;
    if (match?.[2] === 'generateContent') return generateContent;
    // The provider always asks for server-sent events; without alt=sse the API streams a JSON array.
    if (match?.[2] === 'streamGenerateContent' && url.searchParams.get('alt') === 'sse')
      return streamGenerateContent;
    return undefined;
  },
  apiKey: (headers, url) => {
    const key = headers['x-goog-api-key'];
    return typeof key === 'string' ? key : (url.searchParams.get('key') ?? undefined);
  },
  // Gemini never answers 401 for keys: a missing one is 403, a wrong one 400.
  unauthorized: (given) =>
    given
      ? answer(
          400,
          statusOf(400, 'API key not valid. Please pass a valid API key.', [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com' },
            },
          ]),
        )
      : answer(
          403,
          statusOf(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          ),
        ),
  notFound: (_method, url) =>
    answer(404, statusOf(404, `${url.pathname} is not found for API version v1beta.`)),
  badRequest: (message) => answer(400, statusOf(400, message)),
  check: (_headers, body) =>
    Array.isArray(body.contents)
      ? undefined
      : answer(400, statusOf(400, '* contents: contents is not specified')),
  // Gemini sends no retry-after header: how long to wait is in the body's RetryInfo.
  error: (code, { retryAfterS, message }) => {
    if (code !== 429) return answer(code, statusOf(code, message));
    const delayS = retryAfterS ?? 1;
    return answer(
      429,
      statusOf(code, message ?? `${STATUSES[429]![1]} Please retry in ${delayS}s.`, retryInfo(delayS)),
    );
  },
};
