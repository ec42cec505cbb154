/**
 * One model call: streamed, bounded by its own time, abortable, and never trusted to have
 * finished unless the vendor said so. A stream that ends without its final event (a proxy that
 * gave up, a reset connection) is a failure, never an answer: the AI SDK ends such a stream with
 * an error part, or with a finish whose reason is `error`, or `other` with no vendor reason at all.
 */
import { type LanguageModel, type LanguageModelUsage, type ModelMessage, streamText } from 'ai';
import { callFailure, ModelCallError } from './call-failure';
import { estimateTokens } from './models';
import type { AnswerFormat } from './output';

export interface CallRequest {
  modelId: string;
  model: LanguageModel;
  system: string | undefined;
  messages: ModelMessage[];
  format: AnswerFormat;
  maxOutputTokens: number;
  temperature: number | undefined;
  timeoutMs: number;
  /** The prompt's estimated tokens: the usage of a call the vendor reported none for. */
  promptTokens: number;
  /** Stops the call (a hedge that lost, the task's own timeout). */
  signal: AbortSignal;
  /** Keys to scrub from error messages. */
  secrets: readonly string[];
}

/** Token counts as core's ModelCall counts them: cached, cache-write and reasoning tokens are parts. */
export interface CallTokens {
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export interface CallResult {
  modelId: string;
  /** The whole answer when the call succeeded; what came before the failure otherwise. */
  text: string;
  failure: ModelCallError | undefined;
  tokens: CallTokens;
  /** The vendor reported no usage: the tokens are estimated (the prompt, and the text received). */
  estimated: boolean;
  ms: number;
}

const ZERO: CallTokens = {
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
};

/** The SDK's usage in ModelCall's terms, or undefined when the vendor gave no counts. */
export function tokensOf(usage: LanguageModelUsage | undefined): CallTokens | undefined {
  if (usage?.inputTokens === undefined && usage?.outputTokens === undefined) return undefined;
  const inputTokens = usage.inputTokens ?? 0;
  const outputTokens = usage.outputTokens ?? 0;
  // Parts never exceed their whole, whatever a vendor's counts say.
  const cachedInputTokens = Math.min(
    usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0,
    inputTokens,
  );
  const cacheWriteTokens = Math.min(
    usage.inputTokenDetails?.cacheWriteTokens ?? 0,
    inputTokens - cachedInputTokens,
  );
  const reasoningTokens = Math.min(
    usage.outputTokenDetails?.reasoningTokens ?? usage.reasoningTokens ?? 0,
    outputTokens,
  );
  return { inputTokens, cachedInputTokens, cacheWriteTokens, outputTokens, reasoningTokens };
}

/** True when the finish says the vendor ended its answer, not that the stream merely stopped. */
function finishedProperly(finish: { finishReason: string; rawFinishReason: string | undefined }): boolean {
  if (finish.finishReason === 'error') return false;
  return finish.finishReason !== 'other' || finish.rawFinishReason !== undefined;
}

/** Makes one call; never throws. */
export async function callModel(request: CallRequest): Promise<CallResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timeout = new ModelCallError(request.modelId, 'timeout', `no answer within ${request.timeoutMs} ms`);
  const stop = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) stop();
  else request.signal.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(() => controller.abort(timeout), request.timeoutMs);

  let text = '';
  let responded = false;
  let usage: LanguageModelUsage | undefined;
  let finish: { finishReason: string; rawFinishReason: string | undefined } | undefined;
  let error: unknown;
  try {
    const result = streamText({
      model: request.model,
      ...(request.system !== undefined ? { system: request.system } : {}),
      messages: request.messages,
      maxOutputTokens: request.maxOutputTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.format.request ? { output: request.format.request } : {}),
      // swarm falls back to the next model itself, and counts every call it makes.
      maxRetries: 0,
      abortSignal: controller.signal,
      // The default logs the error, request and all, to the console.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === 'start-step') responded = true;
      else if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'finish-step') usage = part.usage;
      else if (part.type === 'finish') finish = part;
      else if (part.type === 'error') error ??= part.error;
    }
  } catch (thrown) {
    error ??= thrown;
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', stop);
  }

  let failure: ModelCallError | undefined;
  if (controller.signal.aborted)
    failure =
      controller.signal.reason === timeout
        ? timeout
        : new ModelCallError(request.modelId, 'aborted', abortDetail(controller.signal.reason));
  else if (error !== undefined) failure = callFailure(request.modelId, error, responded, request.secrets);
  else if (!finish || !finishedProperly(finish))
    failure = new ModelCallError(request.modelId, 'cut', 'the stream ended before its final event');

  const reported = tokensOf(usage);
  // A vendor that refused the request charged nothing; one that had begun answering may have.
  const charged = responded || failure?.kind === 'timeout' || failure?.kind === 'aborted';
  const tokens =
    reported ??
    (charged ? { ...ZERO, inputTokens: request.promptTokens, outputTokens: estimateTokens(text) } : ZERO);
  const estimated = reported === undefined && charged;
  return { modelId: request.modelId, text, failure, tokens, estimated, ms: performance.now() - started };
}

function abortDetail(reason: unknown): string {
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined;
  return message ? `stopped: ${message}` : 'stopped';
}
