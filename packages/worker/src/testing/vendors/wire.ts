import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '@swarm/core';
import type { FakeEndpoint, FakeUsage, FakeVendorKind } from '../types';

export type JsonObject = { [key: string]: JsonValue };

/** A whole HTTP answer: an error, a refusal, or a non-streaming body. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: JsonValue;
}

/** What a vendor module reads from a request body (and, for Gemini, its path). */
export interface RequestFacts {
  model: string;
  stream: boolean;
  system: string;
  /** Text of each user message, in order. */
  userMessages: string[];
  structured: boolean;
  schema?: JsonValue;
  /** Anthropic: the request offers the `json` tool, so the answer is that tool's call. */
  jsonTool: boolean;
  /** OpenAI chat: `stream_options.include_usage`, without which no usage chunk is sent. */
  includeUsage: boolean;
}

/** An answer, vendor-neutral, ready to encode. */
export interface Answer {
  /** Distinct per request: the vendor formats it into its own ids. */
  seq: number;
  model: string;
  /** The text, or the JSON text of a structured answer. */
  text: string;
  /** Send the text as the arguments of Anthropic's `json` tool call. */
  asJsonTool: boolean;
  usage: FakeUsage;
  finishReason: 'stop' | 'length';
  createdS: number;
}

/** Server-sent-event frames of one answer. */
export interface StreamFrames {
  /** Opening events, sent with the headers (Anthropic message_start, OpenAI role chunk, …). */
  head: string;
  delta(piece: string): string;
  /** Closing events: finish reason, usage, end marker. */
  tail: string;
  /** The vendor's in-stream error event, as it would say `status`. */
  error(status: number): string;
}

export interface Endpoint {
  name: FakeEndpoint;
  read(body: JsonObject, url: URL): RequestFacts;
  respond(answer: Answer): JsonValue;
  stream(answer: Answer, facts: RequestFacts): StreamFrames;
}

export interface ErrorDetail {
  retryAfterS?: number;
  message?: string;
}

/** One vendor: where its endpoints live, how it authenticates, how it says no. */
export interface Vendor {
  kind: FakeVendorKind;
  /** The path the provider's baseURL ends with. */
  basePath: string;
  /** Its "overloaded" status: what an in-stream error stands for unless the reply says. */
  overloadedStatus: number;
  /** Headers on every answer (request ids). */
  responseHeaders(): Record<string, string>;
  /** Header names whose values are API keys (redacted in recorded requests). */
  keyHeaders: readonly string[];
  endpoint(method: string, url: URL): Endpoint | undefined;
  /** The key the request carries; undefined or '' when none. */
  apiKey(headers: IncomingHttpHeaders, url: URL): string | undefined;
  unauthorized(given: string | undefined): HttpAnswer;
  notFound(method: string, url: URL): HttpAnswer;
  badRequest(message: string): HttpAnswer;
  /** What the real API refuses before it looks at the body's meaning (a missing header, a field). */
  check(headers: IncomingHttpHeaders, body: JsonObject, endpoint: Endpoint): HttpAnswer | undefined;
  error(status: number, detail: ErrorDetail): HttpAnswer;
}

/** One `data:` frame (OpenAI chat, Gemini) or an `event:` + `data:` frame (Anthropic, OpenAI responses). */
export function sseFrame(data: JsonValue, event?: string): string {
  return event === undefined
    ? `data: ${JSON.stringify(data)}\n\n`
    : `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(object: JsonObject, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

/** The text of a content value: a string, or an array of parts whose `textKey` holds text. */
export function textOf(content: JsonValue | undefined, textKey = 'text'): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    const text = isObject(part) ? part[textKey] : undefined;
    if (typeof text === 'string') texts.push(text);
  }
  return texts.join('\n');
}

export function paddedId(seq: number): string {
  return String(seq).padStart(12, '0');
}
