import type { JsonValue } from '@swarm/core';

/** Which vendor's API a fake speaks: Anthropic Messages, OpenAI (chat completions and responses), Gemini. */
export type FakeVendorKind = 'anthropic' | 'openai' | 'google';

/** The API a request called. */
export type FakeEndpoint =
  | 'anthropic.messages'
  | 'openai.chat'
  | 'openai.responses'
  | 'google.generateContent'
  | 'google.streamGenerateContent'
  | 'unknown';

/**
 * Tokens a fake reports, in the terms of core's `ModelCall`: cached and cache-write tokens are parts
 * of `inputTokens`, reasoning tokens a part of `outputTokens`. Each vendor gets them in its own
 * fields (Anthropic's `input_tokens` leaves the cached ones out, OpenAI's `prompt_tokens` counts
 * them, Gemini's `candidatesTokenCount` leaves the thoughts out).
 */
export interface FakeUsage {
  inputTokens: number;
  cachedInputTokens: number;
  /** Anthropic reports these; OpenAI and Gemini have no such field and drop them. */
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export interface FakeTiming {
  /** Milliseconds from the request to the end of the answer; stream chunks are spread over it. */
  latencyMs?: number;
  /** Milliseconds from the request to the first text chunk (the headers go out at once). */
  firstTokenMs?: number;
}

interface FakeAnswerOptions extends FakeTiming {
  /** Tokens to report, over the vendor's `usage` option and the estimate from the text. */
  usage?: Partial<FakeUsage>;
  /** `length`: the vendor's "hit max tokens" (max_tokens, length, max_output_tokens, MAX_TOKENS). */
  finishReason?: 'stop' | 'length';
}

/**
 * What the fake answers one request with. Stream chunks are the answer's words (at most 20
 * characters each); `afterChunks` counts them, after the vendor's opening events, which always go.
 */
export type FakeReply =
  /** An answer. Sent as JSON text, or, when the request asked Anthropic for its `json` tool, as that tool's call. */
  | (FakeAnswerOptions & { text: string })
  | (FakeAnswerOptions & { json: JsonValue })
  /**
   * The vendor's error: its status and body, e.g. 429 (with `retry-after`, except Gemini, which
   * says when in the body's RetryInfo), 529 (Anthropic overloaded), 503 (OpenAI and Gemini
   * overloaded), 500. Answered at once unless the reply gives `latencyMs`.
   */
  | (FakeTiming & { error: number; retryAfterS?: number; message?: string })
  /** Headers (streaming) then nothing, or nothing at all (non-streaming), until the client goes away. */
  | (FakeTiming & { stall: true | { afterChunks: number }; text?: string })
  /**
   * The connection is destroyed after some chunks, with no closing event; `clean` ends the response
   * properly instead (what a proxy that gives up does). A non-streaming answer is cut mid-body.
   */
  | (FakeTiming & { cut: { afterChunks: number; clean?: boolean }; text?: string })
  /**
   * HTTP 200, then the vendor's error event in the stream after some chunks (Anthropic's
   * `overloaded_error` by default, or per `status`), then the end. Non-streaming: the error status.
   */
  | (FakeTiming & { streamError: { afterChunks: number; status?: number }; text?: string });

/** What a fake received, with the API key redacted. */
export interface FakeRequest {
  endpoint: FakeEndpoint;
  method: string;
  /** Path and query, `key=` redacted. */
  path: string;
  /** Lower-case names; the API key header's value is `<redacted>`. */
  headers: Record<string, string>;
  /** Whether the request carried the fake's API key, another one, or none. */
  auth: 'ok' | 'invalid' | 'missing';
  model: string;
  stream: boolean;
  /** Text of the system instructions. */
  system: string;
  /** Text of the user messages, joined by blank lines. */
  prompt: string;
  /** Whether the request asked for JSON (structured output, or Anthropic's `json` tool). */
  structured: boolean;
  /** The JSON schema the answer must follow, as the provider sent it. */
  schema?: JsonValue;
  body: JsonValue;
}

/** Decides a request's reply: the nth request (from 0) that reached the script. Undefined: the default. */
export type FakeScript =
  | readonly FakeReply[]
  | ((request: FakeRequest, n: number) => FakeReply | undefined | Promise<FakeReply | undefined>);

export interface FakeVendorOptions extends FakeTiming {
  kind: FakeVendorKind;
  /** The key requests must carry (default `fake-key`). */
  apiKey?: string;
  /** Tokens to report, or a function of the request; fields left out are estimated (4 characters a token). */
  usage?: Partial<FakeUsage> | ((request: FakeRequest) => Partial<FakeUsage>);
  /**
   * Replies in order (then the default), or a function. The default echoes the last user message
   * (`echo: …`, its first 200 characters), or, when the request asks for JSON, a value that
   * follows its schema with that echo in every string.
   */
  script?: FakeScript;
  /** Default 0: a free port on 127.0.0.1. */
  port?: number;
}

export interface FakeVendorCounts {
  /** Every request received. */
  requests: number;
  /** Answers sent whole (text or JSON). */
  answered: number;
  /** Scripted error statuses. */
  errors: number;
  /** Refused by the fake itself: bad key, unknown path, malformed request. */
  refused: number;
  stalled: number;
  cut: number;
  streamErrors: number;
  /** Requests whose client went away before the answer ended (an abort, a stall ended). */
  aborted: number;
  inFlight: number;
  maxInFlight: number;
  /** TCP connections accepted: far fewer than requests when the client keeps them alive. */
  connections: number;
}

export interface FakeVendor {
  readonly kind: FakeVendorKind;
  /** The provider's `baseURL`: `…/v1` for Anthropic and OpenAI, `…/v1beta` for Gemini. */
  readonly url: string;
  /** The key to give the provider. */
  readonly apiKey: string;
  /** Every request, in order of arrival. */
  readonly requests: readonly FakeRequest[];
  readonly counts: Readonly<FakeVendorCounts>;
  /** Ends every open response (stalls included) and stops the server. */
  close(): Promise<void>;
}
