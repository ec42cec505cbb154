/** The AI SDK providers the kit's tests drive, each against its fake vendor. */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, type LanguageModel, streamText } from 'ai';
import type { FakeVendor, FakeVendorKind } from './index';

/** How a provider is made: the fake's URL and key unless the test says otherwise. */
export interface ProviderSettings {
  baseURL?: string;
  apiKey?: string;
}

/** An AI SDK provider, and model, driven against a fake vendor. */
export interface ProviderUnderTest {
  name: string;
  kind: FakeVendorKind;
  model(fake: FakeVendor, settings?: ProviderSettings): LanguageModel;
  /** The vendor's "overloaded" status. */
  overloaded: number;
  /** How the vendor refuses a wrong key, and a missing one. */
  wrongKeyStatus: number;
  missingKeyStatus: number;
}

function settingsOf(fake: FakeVendor, settings: ProviderSettings = {}) {
  return { baseURL: settings.baseURL ?? fake.url, apiKey: settings.apiKey ?? fake.apiKey };
}

export const PROVIDERS: ProviderUnderTest[] = [
  {
    name: 'anthropic (messages)',
    kind: 'anthropic',
    model: (fake, settings) => createAnthropic(settingsOf(fake, settings))('claude-sonnet-4-5'),
    overloaded: 529,
    wrongKeyStatus: 401,
    missingKeyStatus: 401,
  },
  {
    name: 'openai (chat completions)',
    kind: 'openai',
    model: (fake, settings) => createOpenAI(settingsOf(fake, settings)).chat('gpt-4o-mini'),
    overloaded: 503,
    wrongKeyStatus: 401,
    missingKeyStatus: 401,
  },
  {
    // `openai(model)` is the Responses API in AI SDK 6.
    name: 'openai (responses)',
    kind: 'openai',
    model: (fake, settings) => createOpenAI(settingsOf(fake, settings))('gpt-4o-mini'),
    overloaded: 503,
    wrongKeyStatus: 401,
    missingKeyStatus: 401,
  },
  {
    name: 'google (gemini)',
    kind: 'google',
    model: (fake, settings) => createGoogleGenerativeAI(settingsOf(fake, settings))('gemini-2.5-flash'),
    overloaded: 503,
    // Gemini never says 401 about keys.
    wrongKeyStatus: 400,
    missingKeyStatus: 403,
  },
];

/** The APICallError a call failed with (fails the test if it failed otherwise). */
export async function apiCallError(call: PromiseLike<unknown>): Promise<APICallError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!APICallError.isInstance(error)) throw new Error(`expected an APICallError, got ${String(error)}`);
  return error;
}

/**
 * A streamText call that fails before any output: the SDK hands the APICallError to onError (and
 * the full stream's error part) only; `text` and the other promises reject with NoOutputGeneratedError.
 */
export async function failedStream(
  model: LanguageModel,
): Promise<{ error: APICallError; textRejection: unknown }> {
  const errors: unknown[] = [];
  const result = streamText({
    model,
    prompt: 'Hi',
    maxRetries: 0,
    onError: ({ error }) => void errors.push(error),
  });
  const textRejection = await result.text.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  const [error] = errors;
  if (errors.length !== 1 || !APICallError.isInstance(error))
    throw new Error(`expected one APICallError through onError, got [${errors.map(String).join(', ')}]`);
  return { error, textRejection };
}

/** A promise and its resolve, as Node 22's Promise.withResolvers gives. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
