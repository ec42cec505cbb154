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

// The Responses API: https://platform.openai.com/docs/api-reference/responses and its streaming events.

function wireUsage(usage: FakeUsage): JsonObject {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

function read(body: JsonObject): RequestFacts {
  const system = [stringField(body, 'instructions')].filter((text) => text !== '');
  const userMessages: string[] = [];
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  for (const item of Array.isArray(input) ? input : []) {
    if (!isObject(item)) continue;
    const text = textOf(item.content);
    if (item.role === 'system' || item.role === 'developer') system.push(text);
    if (item.role === 'user') userMessages.push(text);
  }
  const format = isObject(body.text) && isObject(body.text.format) ? body.text.format : undefined;
  const schema = format?.type === 'json_schema' ? format.schema : undefined;
  return {
    model: stringField(body, 'model'),
    stream: body.stream === true,
    system: system.join('\n\n'),
    userMessages,
    structured: format?.type === 'json_schema' || format?.type === 'json_object',
    ...(schema !== undefined && { schema }),
    jsonTool: false,
    includeUsage: true,
  };
}

function responseObject(answer: Answer, done: boolean): JsonObject {
  const incomplete = answer.finishReason === 'length';
  return {
    id: `resp_fake${paddedId(answer.seq)}`,
    object: 'response',
    created_at: answer.createdS,
    status: done ? (incomplete ? 'incomplete' : 'completed') : 'in_progress',
    error: null,
    incomplete_details: done && incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: null,
    model: answer.model,
    output: done ? [messageItem(answer, true)] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: done ? wireUsage(answer.usage) : null,
    user: null,
    metadata: {},
  };
}

function messageId(answer: Answer): string {
  return `msg_fake${paddedId(answer.seq)}`;
}

function outputText(text: string): JsonObject {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageItem(answer: Answer, done: boolean): JsonObject {
  return {
    id: messageId(answer),
    type: 'message',
    status: done ? 'completed' : 'in_progress',
    role: 'assistant',
    content: done ? [outputText(answer.text)] : [],
  };
}

function respond(answer: Answer): JsonValue {
  return responseObject(answer, true);
}

function stream(answer: Answer): StreamFrames {
  let sequence = 0;
  const event = (type: string, fields: JsonObject): string =>
    sseFrame({ type, sequence_number: sequence++, ...fields }, type);
  const part = { item_id: messageId(answer), output_index: 0, content_index: 0 };
  return {
    head:
      event('response.created', { response: responseObject(answer, false) }) +
      event('response.in_progress', { response: responseObject(answer, false) }) +
      event('response.output_item.added', { output_index: 0, item: messageItem(answer, false) }) +
      event('response.content_part.added', { ...part, part: outputText('') }),
    delta: (piece) => event('response.output_text.delta', { ...part, delta: piece, logprobs: [] }),
    tail:
      event('response.output_text.done', { ...part, text: answer.text, logprobs: [] }) +
      event('response.content_part.done', { ...part, part: outputText(answer.text) }) +
      event('response.output_item.done', { output_index: 0, item: messageItem(answer, true) }) +
      event(answer.finishReason === 'length' ? 'response.incomplete' : 'response.completed', {
        response: responseObject(answer, true),
      }),
    error: (status) => {
      const { message } = openaiErrorOf(status);
      return event('error', {
        code: status === 429 ? 'rate_limit_exceeded' : 'server_error',
        message: message ?? null,
        param: null,
      });
    },
  };
}

export const openaiResponses: Endpoint = { name: 'openai.responses', read, respond, stream };
