import {
  APICallError,
  generateObject,
  generateText,
  jsonSchema,
  NoOutputGeneratedError,
  Output,
  streamText,
} from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeVendor, type FakeVendorOptions, startFakeVendor } from './index';
import { apiCallError, failedStream, PROVIDERS, signal } from './providers-under-test';

// maxRetries: 0 everywhere, so the SDK's own retries do not hide what the fake did.

const USAGE = { inputTokens: 120, cachedInputTokens: 50, outputTokens: 40, reasoningTokens: 15 };

interface Verdict {
  verdict: string;
  score: number;
  reasons: string[];
}

const VERDICT = jsonSchema<Verdict>({
  type: 'object',
  properties: {
    verdict: { type: 'string', enum: ['pass', 'fail'] },
    score: { type: 'number' },
    reasons: { type: 'array', items: { type: 'string' } },
  },
  required: ['verdict', 'score', 'reasons'],
  additionalProperties: false,
});

describe.each(PROVIDERS)('$name against its fake vendor', (provider) => {
  let fake: FakeVendor | undefined;
  const start = async (options: Omit<FakeVendorOptions, 'kind'> = {}): Promise<FakeVendor> => {
    fake = await startFakeVendor({ kind: provider.kind, ...options });
    return fake;
  };
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const expectedUsage = expect.objectContaining({
    inputTokens: 120,
    inputTokenDetails: expect.objectContaining({ noCacheTokens: 70, cacheReadTokens: 50 }),
    outputTokens: 40,
    outputTokenDetails: { textTokens: 25, reasoningTokens: 15 },
    totalTokens: 160,
  });

  it('streamText gets the text, the finish reason, and input, cached, output and reasoning tokens', async () => {
    const vendor = await start({ usage: USAGE });
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Is the build green?',
      maxRetries: 0,
    });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas).toEqual(['echo: ', 'Is ', 'the ', 'build ', 'green?']);
    expect(await result.text).toBe('echo: Is the build green?');
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toEqual(expectedUsage);
    expect(vendor.requests[0]).toMatchObject({ stream: true, auth: 'ok', prompt: 'Is the build green?' });
  });

  it('generateText gets the same answer and tokens', async () => {
    const vendor = await start({ usage: USAGE, script: [{ text: 'All green.' }] });
    const result = await generateText({ model: provider.model(vendor), prompt: 'Is it?', maxRetries: 0 });
    expect(result).toMatchObject({ text: 'All green.', finishReason: 'stop', usage: expectedUsage });
    expect(vendor.requests[0]).toMatchObject({ stream: false, structured: false });
  });

  it('reports a reply cut at max tokens as "length"', async () => {
    const vendor = await start({ script: () => ({ text: 'It was the best of', finishReason: 'length' }) });
    const model = provider.model(vendor);
    expect((await generateText({ model, prompt: 'Go', maxRetries: 0 })).finishReason).toBe('length');
    expect(await streamText({ model, prompt: 'Go', maxRetries: 0 }).finishReason).toBe('length');
  });

  it('round-trips structured output, generated and streamed', async () => {
    const json = { verdict: 'pass', score: 0.9, reasons: ['tests pass', 'no lint'] };
    const vendor = await start({ script: () => ({ json }) });
    const model = provider.model(vendor);
    const output = Output.object({ schema: VERDICT });
    expect((await generateText({ model, prompt: 'Judge', output, maxRetries: 0 })).output).toEqual(json);
    expect(await streamText({ model, prompt: 'Judge', output, maxRetries: 0 }).output).toEqual(json);
    expect((await generateObject({ model, prompt: 'Judge', schema: VERDICT, maxRetries: 0 })).object).toEqual(
      json,
    );
    expect(vendor.requests.map((r) => [r.stream, r.structured])).toEqual([
      [false, true],
      [true, true],
      [false, true],
    ]);
    expect(vendor.requests[0]?.schema).toMatchObject({ properties: { score: { type: 'number' } } });
  });

  it('answers structured output by default with a value that follows the schema', async () => {
    const vendor = await start();
    const output = Output.object({ schema: VERDICT });
    const result = await generateText({
      model: provider.model(vendor),
      prompt: 'Judge',
      output,
      maxRetries: 0,
    });
    expect(result.output).toEqual({ verdict: 'pass', score: 0, reasons: ['echo: Judge'] });
  });

  it('turns a 429 into a retryable APICallError with status 429, and retry-after except from Gemini', async () => {
    const vendor = await start({ script: () => ({ error: 429, retryAfterS: 7 }) });
    const model = provider.model(vendor);
    const generated = await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }));
    const { error: streamed, textRejection } = await failedStream(model);
    for (const error of [generated, streamed]) {
      expect(error).toMatchObject({ statusCode: 429, isRetryable: true });
      // Gemini says when to retry in the body (RetryInfo), never in a header.
      expect(error.responseHeaders?.['retry-after']).toBe(provider.kind === 'google' ? undefined : '7');
    }
    expect(NoOutputGeneratedError.isInstance(textRejection)).toBe(true);
    expect(vendor.counts).toMatchObject({ requests: 2, errors: 2 });
  });

  it.each([
    ['overloaded', provider.overloaded],
    ['a server error', 500],
  ])('turns %s into a retryable APICallError with its status', async (_what, status) => {
    const vendor = await start({ script: () => ({ error: status }) });
    const model = provider.model(vendor);
    const generated = await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }));
    expect(generated).toMatchObject({ statusCode: status, isRetryable: true });
    const { error: streamed } = await failedStream(model);
    expect(streamed).toMatchObject({ statusCode: status, isRetryable: true });
  });

  it('a destroyed stream rejects text, finish reason and usage with a retryable APICallError of status 200, calling neither onError nor onFinish', async () => {
    const vendor = await start({ script: () => ({ text: 'one two three four', cut: { afterChunks: 2 } }) });
    const called: string[] = [];
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      onError: () => void called.push('onError'),
      onFinish: () => void called.push('onFinish'),
    });
    const deltas: string[] = [];
    const thrown = await (async () => {
      for await (const delta of result.textStream) deltas.push(delta);
    })().catch((error: unknown) => error);
    expect(deltas).toEqual(['one ', 'two ']);
    expect(APICallError.isInstance(thrown) && thrown).toMatchObject({
      statusCode: 200,
      isRetryable: true,
      message: 'Failed to process successful response',
      cause: expect.objectContaining({ message: 'terminated' }),
    });
    for (const promise of [result.text, result.finishReason, result.usage])
      expect(await apiCallError(promise)).toMatchObject({ statusCode: 200, isRetryable: true });
    expect(called).toEqual([]);
    await vendor.close();
    expect(vendor.counts).toMatchObject({ cut: 1, aborted: 0 });
  });

  it('a stream ended cleanly before its closing events finishes as "other", with no output tokens', async () => {
    const vendor = await start({
      script: () => ({ text: 'one two three four', cut: { afterChunks: 2, clean: true } }),
    });
    const result = streamText({ model: provider.model(vendor), prompt: 'Hi', maxRetries: 0 });
    expect(await result.text).toBe('one two ');
    expect(await result.finishReason).toBe('other');
    const usage = await result.usage;
    // Gemini's chunks carry the prompt's count as they go; the others report usage only at the end.
    expect(usage.inputTokens).toBe(provider.kind === 'google' ? 1 : undefined);
    expect(usage.outputTokens).toBe(provider.kind === 'google' ? 0 : undefined);
  });

  it('a mid-stream error event finishes as "error" with the text so far', async () => {
    const vendor = await start({
      script: () => ({ text: 'one two three', streamError: { afterChunks: 2 } }),
    });
    const errors: unknown[] = [];
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    expect(await result.text).toBe('one two ');
    expect(await result.finishReason).toBe('error');
    expect(errors).toHaveLength(1);
  });

  it('a stall, headers and then nothing, ends with the abort signal', async () => {
    const arrived = signal();
    const vendor = await start({
      script: () => {
        arrived.resolve();
        return { stall: true };
      },
    });
    const abort = new AbortController();
    const parts: string[] = [];
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      abortSignal: abort.signal,
    });
    const reading = (async () => {
      for await (const part of result.fullStream) parts.push(part.type);
    })();
    await arrived.promise;
    abort.abort();
    await reading;
    expect(parts).toEqual(['start', 'abort']);
    // The promises reject with the signal's reason (here the default AbortError).
    await expect(result.text).rejects.toMatchObject({ name: 'AbortError' });
    await expect(result.usage).rejects.toMatchObject({ name: 'AbortError' });
    await vendor.close();
    expect(vendor.counts).toMatchObject({ stalled: 1, aborted: 1 });
  });

  it('a stall after some chunks keeps what came, then ends with the abort signal', async () => {
    const vendor = await start({ script: () => ({ text: 'one two three', stall: { afterChunks: 2 } }) });
    const abort = new AbortController();
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      abortSignal: abort.signal,
    });
    const deltas: string[] = [];
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') deltas.push(part.text);
      if (deltas.length === 2) abort.abort();
    }
    expect(deltas).toEqual(['one ', 'two ']);
    await expect(result.finishReason).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a non-streaming stall sends nothing until the abort signal ends the call', async () => {
    const arrived = signal();
    const vendor = await start({
      script: () => {
        arrived.resolve();
        return { stall: true };
      },
    });
    const abort = new AbortController();
    const call = generateText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      abortSignal: abort.signal,
    });
    await arrived.promise;
    abort.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a slow first token keeps the text back while the request is answered', async () => {
    const arrived = signal();
    const vendor = await start({
      script: () => {
        arrived.resolve();
        return { text: 'late', firstTokenMs: 60_000 };
      },
    });
    const abort = new AbortController();
    const result = streamText({
      model: provider.model(vendor),
      prompt: 'Hi',
      maxRetries: 0,
      abortSignal: abort.signal,
    });
    const parts: string[] = [];
    const reading = (async () => {
      for await (const part of result.fullStream) parts.push(part.type);
    })();
    await arrived.promise;
    abort.abort();
    await reading;
    expect(parts).not.toContain('text-delta');
    expect(parts.at(-1)).toBe('abort');
  });

  it('a non-streaming body cut halfway is a retryable APICallError; ended cleanly, an invalid JSON one', async () => {
    const vendor = await start({
      script: (_request, n) => ({ text: 'one two three', cut: { afterChunks: 0, clean: n === 1 } }),
    });
    const model = provider.model(vendor);
    expect(await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }))).toMatchObject({
      statusCode: 200,
      isRetryable: true,
      message: 'Failed to process successful response',
    });
    expect(await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }))).toMatchObject({
      statusCode: 200,
      isRetryable: false,
      message: 'Invalid JSON response',
    });
  });

  it('refuses a wrong key, and a missing one, as the vendor does', async () => {
    const vendor = await start({ apiKey: 'the-right-key' });
    const wrong = provider.model(vendor, { apiKey: 'not-the-key' });
    expect(await apiCallError(generateText({ model: wrong, prompt: 'Hi', maxRetries: 0 }))).toMatchObject({
      statusCode: provider.wrongKeyStatus,
      isRetryable: false,
    });
    const { error: streamed } = await failedStream(provider.model(vendor, { apiKey: '' }));
    expect(streamed).toMatchObject({ statusCode: provider.missingKeyStatus, isRetryable: false });
    expect(vendor.requests.map((r) => r.auth)).toEqual(['invalid', 'missing']);
    expect(vendor.counts).toMatchObject({ refused: 2, answered: 0 });
  });

  it("answers a baseURL without the API's version path with the vendor's 404", async () => {
    const vendor = await start();
    const model = provider.model(vendor, { baseURL: new URL(vendor.url).origin });
    expect(await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }))).toMatchObject({
      statusCode: 404,
    });
    expect(vendor.requests[0]?.endpoint).toBe('unknown');
  });
});
