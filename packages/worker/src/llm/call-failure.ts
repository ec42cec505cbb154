/**
 * Why a model call failed, in the terms the llm handler acts on: which failures send the task to
 * the next model (issue #10: 429, 5xx, 529, timeouts, cut streams, an unreachable vendor), which
 * fail the attempt (a request the vendor refuses, an answer that breaks the schema), and how long
 * a vendor asked to be left alone.
 */
import { SwarmError } from '@swarm/core';
import { APICallError } from 'ai';
import { redactSecrets } from './providers';

export type CallFailureKind =
  /** 429: the vendor's rate limit, perhaps with Retry-After. */
  | 'rate-limited'
  /** 529 (Anthropic), 503: the vendor is overloaded. */
  | 'overloaded'
  /** Any other 5xx, or an error event in the stream. */
  | 'server'
  /** No answer within the call's time. */
  | 'timeout'
  /** The stream ended, or broke, before its final event. */
  | 'cut'
  /** No response at all: connection refused or reset, DNS. */
  | 'unreachable'
  /** Another 4xx: the request itself is refused (bad request, auth, unknown model). */
  | 'refused'
  /** The answer is not JSON the output schema allows. */
  | 'invalid-output'
  /** Stopped by swarm: a hedge that lost, the task's timeout, a lost lease. */
  | 'aborted';

/** Failures another model may not have: the task moves on to the next candidate. */
export const FALLBACK_KINDS: ReadonlySet<CallFailureKind> = new Set([
  'rate-limited',
  'overloaded',
  'server',
  'timeout',
  'cut',
  'unreachable',
]);

export class ModelCallError extends SwarmError<'SWARM_MODEL_CALL_FAILED'> {
  constructor(
    readonly modelId: string,
    readonly kind: CallFailureKind,
    detail: string,
    readonly status?: number,
    /** How long the vendor asked to be left alone (Retry-After, Gemini's RetryInfo). */
    readonly retryAfterMs?: number,
  ) {
    super('SWARM_MODEL_CALL_FAILED', `${modelId}: ${detail}`);
  }
}

const MAX_DETAIL = 300;

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

/** Retry-After in seconds or as a date, OpenAI's retry-after-ms, or Gemini's RetryInfo in the body. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  body: string | undefined,
  now = Date.now(),
): number | undefined {
  const header = (name: string) =>
    headers && Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  const ms = Number(header('retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header('retry-after-ms') !== undefined) return ms;
  const after = header('retry-after');
  if (after !== undefined) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const delay = body?.match(/"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/);
  return delay ? Number(delay[1]) * 1_000 : undefined;
}

function kindOfStatus(status: number): CallFailureKind {
  if (status === 429) return 'rate-limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'refused';
}

/** An error event inside a stream (Anthropic's `{ type: 'overloaded_error' }`), by its type. */
function kindOfStreamError(error: unknown): CallFailureKind | undefined {
  const type = (error as { type?: unknown; error?: { type?: unknown } } | null)?.type;
  const nested = (error as { error?: { type?: unknown } } | null)?.error?.type;
  const name = typeof type === 'string' ? type : typeof nested === 'string' ? nested : undefined;
  if (name === 'overloaded_error') return 'overloaded';
  if (name === 'rate_limit_error') return 'rate-limited';
  if (name === 'api_error') return 'server';
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  const message = (error as { message?: unknown; error?: { message?: unknown } } | null)?.message;
  const nested = (error as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof message === 'string') return message;
  if (typeof nested === 'string') return nested;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * The failure a thrown error or stream error part means. `responded`: the vendor's response had
 * begun, so an error now cuts an answer short.
 */
export function callFailure(
  modelId: string,
  error: unknown,
  responded: boolean,
  secrets: readonly string[],
): ModelCallError {
  const detail = (text: string) => clip(redactSecrets(text, secrets));
  if (error instanceof ModelCallError) return error;
  // A stream cut mid-way comes as an APICallError too, with the 200 it began with.
  if (APICallError.isInstance(error) && error.statusCode !== undefined && error.statusCode >= 400) {
    // A spent quota answers 429 too, but waiting never ends it (OpenAI's insufficient_quota, a
    // Gemini daily limit): a refusal, so the task fails and is dead-lettered in the end.
    const kind =
      error.statusCode === 429 && /insufficient_quota|billing|per.?day|daily/i.test(error.responseBody ?? '')
        ? 'refused'
        : kindOfStatus(error.statusCode);
    const wait =
      kind === 'rate-limited' ? retryAfterMs(error.responseHeaders, error.responseBody) : undefined;
    return new ModelCallError(
      modelId,
      kind,
      detail(`${error.statusCode} ${messageOf(error)}`),
      error.statusCode,
      wait,
    );
  }
  const streamKind = kindOfStreamError(error);
  if (streamKind) return new ModelCallError(modelId, streamKind, detail(`stream error: ${messageOf(error)}`));
  if (responded)
    return new ModelCallError(modelId, 'cut', detail(`the stream broke before its end: ${messageOf(error)}`));
  return new ModelCallError(modelId, 'unreachable', detail(`no response: ${causeOf(error)}`));
}

/** fetch's "fetch failed" says little; its cause says ECONNREFUSED. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const inner = (cause as { cause?: unknown } | null)?.cause ?? cause;
  const code = (inner as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `${messageOf(error)} (${code})` : messageOf(error);
}
