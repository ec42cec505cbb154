import type { JsonValue } from '@swarm/core';
import type { FakeUsage } from '../types';
import { openaiErrorOf } from './openai-error';
import {
  type Answer,
  type Endpoint,
  isObject,
  type JsonObject,
  paddedId,
  type RequestFacts,
  type StreamFrames,
  sseFrame,
  stringField,
  textOf,
} from './wire';

// Chat completions: https://platform.openai.com/docs/api-reference/chat (and its streaming chunks).

function wireUsage(usage: FakeUsage): JsonObject {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function read(body: JsonObject): RequestFacts {
  const system: string[] = [];
  const userMessages: string[] = [];
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObject(message)) continue;
    if (message.role === 'system' || message.role === 'developer') system.push(textOf(message.content));
    if (message.role === 'user') userMessages.push(textOf(message.content));
  }
  const format = isObject(body.response_format) ? body.response_format : undefined;
  const jsonSchema =
    format?.type === 'json_schema' && isObject(format.json_schema) ? format.json_schema : undefined;
  const schema = jsonSchema?.schema;
  const streamOptions = isObject(body.stream_options) ? body.stream_options : undefined;
  return {
    model: stringField(body, 'model'),
    stream: body.stream === true,
    system: system.join('\n\n'),
    userMessages,
    structured: format?.type === 'json_schema' || format?.type === 'json_object',
    ...(schema !== undefined && { schema }),
    jsonTool: false,
    includeUsage: streamOptions?.include_usage === true,
  };
}

function completionId(answer: Answer): string {
  return `chatcmpl-fake${paddedId(answer.seq)}`;
}

function respond(answer: Answer): JsonValue {
  return {
    id: completionId(answer),
    object: 'chat.completion',
    created: answer.createdS,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: answer.finishReason,
      },
    ],
    usage: wireUsage(answer.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

function stream(answer: Answer, facts: RequestFacts): StreamFrames {
  const base = {
    id: completionId(answer),
    object: 'chat.completion.chunk',
    created: answer.createdS,
    model: answer.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
  // With include_usage every chunk says `usage: null` and one more chunk, with no choices, has it.
  const usageField: JsonObject = facts.includeUsage ? { usage: null } : {};
  const chunk = (delta: JsonObject, finishReason: string | null): string =>
    sseFrame({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...usageField,
    });
  return {
    head: chunk({ role: 'assistant', content: '', refusal: null }, null),
    delta: (piece) => chunk({ content: piece }, null),
    tail:
      chunk({}, answer.finishReason) +
      (facts.includeUsage ? sseFrame({ ...base, choices: [], usage: wireUsage(answer.usage) }) : '') +
      'data: [DONE]\n\n',
    error: (status) => sseFrame({ error: openaiErrorOf(status) }),
  };
}

export const openaiChat: Endpoint = { name: 'openai.chat', read, respond, stream };
