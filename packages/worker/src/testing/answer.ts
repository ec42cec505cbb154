import { exampleFromSchema } from './schema-example';
import type { FakeReply, FakeRequest, FakeUsage, FakeVendorOptions } from './types';
import type { Answer, RequestFacts } from './vendors/wire';

const ECHO_CHARS = 200;
const CHUNK_CHARS = 20;

/** What the default reply says: `echo: ` and the start of the last user message, or JSON for its schema. */
export function defaultText(facts: RequestFacts): string {
  const echo = `echo: ${(facts.userMessages.at(-1) ?? '').slice(0, ECHO_CHARS)}`;
  return facts.structured ? JSON.stringify(exampleFromSchema(facts.schema, echo)) : echo;
}

function replyText(reply: FakeReply | undefined, facts: RequestFacts): string {
  if (reply !== undefined && 'json' in reply) return JSON.stringify(reply.json);
  if (reply !== undefined && 'text' in reply && reply.text !== undefined) return reply.text;
  return defaultText(facts);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** About 4 characters a token, at least one. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usageOf(
  options: FakeVendorOptions,
  reply: FakeReply | undefined,
  request: FakeRequest,
  text: string,
): FakeUsage {
  const configured = typeof options.usage === 'function' ? options.usage(request) : options.usage;
  const given = { ...configured, ...(reply !== undefined && 'usage' in reply ? reply.usage : undefined) };
  const reasoningTokens = given.reasoningTokens ?? 0;
  return {
    inputTokens: given.inputTokens ?? estimateTokens(request.system + request.prompt),
    cachedInputTokens: given.cachedInputTokens ?? 0,
    cacheWriteTokens: given.cacheWriteTokens ?? 0,
    outputTokens: given.outputTokens ?? estimateTokens(text) + reasoningTokens,
    reasoningTokens,
  };
}

export function buildAnswer(
  seq: number,
  options: FakeVendorOptions,
  reply: FakeReply | undefined,
  request: FakeRequest,
  facts: RequestFacts,
): Answer {
  const text = replyText(reply, facts);
  return {
    seq,
    model: facts.model,
    text,
    // A text that is not JSON goes out as text: the model "did not call the tool".
    asJsonTool: facts.jsonTool && isJson(text),
    usage: usageOf(options, reply, request, text),
    finishReason: reply !== undefined && 'finishReason' in reply ? (reply.finishReason ?? 'stop') : 'stop',
    createdS: Math.floor(Date.now() / 1000),
  };
}

/** Stream chunks: each word with the whitespace around it, long words in slices of 20 characters. */
export function splitIntoChunks(text: string): string[] {
  if (text === '') return [];
  const pieces = text.match(new RegExp(`\\s*\\S{1,${CHUNK_CHARS}}\\s*`, 'g'));
  return pieces ?? [text];
}
