import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, Output, streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeVendor, type FakeVendorOptions, startFakeVendor } from './index';
import { apiCallError, failedStream } from './providers-under-test';

let fake: FakeVendor | undefined;
async function start(options: FakeVendorOptions): Promise<FakeVendor> {
  fake = await startFakeVendor(options);
  return fake;
}
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const anthropicModel = (vendor: FakeVendor, model = 'claude-sonnet-4-5') =>
  createAnthropic({ baseURL: vendor.url, apiKey: vendor.apiKey })(model);
const openaiChat = (vendor: FakeVendor) =>
  createOpenAI({ baseURL: vendor.url, apiKey: vendor.apiKey }).chat('gpt-4o');

/** A raw POST, for what no provider sends. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

describe('fake vendor script', () => {
  it('answers from a reply list in order, then with the default echo', async () => {
    const vendor = await start({ kind: 'openai', script: [{ text: 'first' }, { error: 500 }] });
    const model = openaiChat(vendor);
    expect((await generateText({ model, prompt: 'a', maxRetries: 0 })).text).toBe('first');
    expect(await apiCallError(generateText({ model, prompt: 'b', maxRetries: 0 }))).toMatchObject({
      statusCode: 500,
    });
    expect((await generateText({ model, prompt: 'c', maxRetries: 0 })).text).toBe('echo: c');
  });

  it("gives the script each request and its number; a script that throws is the vendor's 500, saying so", async () => {
    const seen: string[] = [];
    const vendor = await start({
      kind: 'anthropic',
      script: (request, n) => {
        seen.push(`${n}:${request.model}:${request.prompt}`);
        if (n === 1) throw new Error('no third answer');
        return { text: `answer ${n}` };
      },
    });
    const model = anthropicModel(vendor);
    expect((await generateText({ model, prompt: 'one', maxRetries: 0 })).text).toBe('answer 0');
    const error = await apiCallError(generateText({ model, prompt: 'two', maxRetries: 0 }));
    expect(error).toMatchObject({ statusCode: 500, message: 'fake vendor script threw: no third answer' });
    expect(seen).toEqual(['0:claude-sonnet-4-5:one', '1:claude-sonnet-4-5:two']);
  });

  it('reports usage from the options, a function of the request, or the reply, over the estimate', async () => {
    const vendor = await start({
      kind: 'google',
      usage: (request) => ({ inputTokens: request.prompt.length * 10 }),
      script: [{ text: 'x' }, { text: 'y', usage: { outputTokens: 99 } }],
    });
    const model = createGoogleGenerativeAI({ baseURL: vendor.url, apiKey: vendor.apiKey })('gemini-2.5-pro');
    const first = await generateText({ model, prompt: 'abc', maxRetries: 0 });
    expect(first.usage).toMatchObject({ inputTokens: 30, outputTokens: 1 });
    const second = await generateText({ model, prompt: 'abcd', maxRetries: 0 });
    expect(second.usage).toMatchObject({ inputTokens: 40, outputTokens: 99 });
  });
});

describe('fake vendor records', () => {
  it('records endpoint, path, model, system, prompt and body, with the key redacted', async () => {
    const vendor = await start({ kind: 'anthropic', apiKey: 'sk-ant-secret' });
    await generateText({ model: anthropicModel(vendor), system: 'Be brief.', prompt: 'Why?', maxRetries: 0 });
    const [request] = vendor.requests;
    expect(request).toMatchObject({
      endpoint: 'anthropic.messages',
      method: 'POST',
      path: '/v1/messages',
      auth: 'ok',
      model: 'claude-sonnet-4-5',
      system: 'Be brief.',
      prompt: 'Why?',
      stream: false,
      body: expect.objectContaining({ model: 'claude-sonnet-4-5', max_tokens: expect.any(Number) }),
    });
    expect(request?.headers).toMatchObject({ 'x-api-key': '<redacted>', 'anthropic-version': '2023-06-01' });
    expect(JSON.stringify(vendor.requests)).not.toContain('sk-ant-secret');
  });

  it("takes Gemini's key as ?key= too, and redacts it from the recorded path", async () => {
    const vendor = await start({ kind: 'google', apiKey: 'AIza-secret' });
    const answer = await post(`${vendor.url}/models/gemini-2.5-flash:generateContent?key=AIza-secret`, {
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({
      candidates: [{ content: { parts: [{ text: 'echo: Hi' }], role: 'model' }, finishReason: 'STOP' }],
    });
    expect(vendor.requests[0]?.path).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent?key=%3Credacted%3E',
    );
  });

  it('counts answers, refusals, faults and aborts, and keeps connections alive', async () => {
    const vendor = await start({
      kind: 'openai',
      script: [{ text: 'a' }, { error: 429 }, { text: 'b' }, { text: 'c', cut: { afterChunks: 0 } }],
    });
    const model = openaiChat(vendor);
    await generateText({ model, prompt: 'a', maxRetries: 0 });
    await generateText({ model, prompt: 'b', maxRetries: 0 }).catch(() => undefined);
    await generateText({
      model: openaiChat({ ...vendor, apiKey: 'wrong' }),
      prompt: 'x',
      maxRetries: 0,
    }).catch(() => undefined);
    await generateText({ model, prompt: 'c', maxRetries: 0 });
    await generateText({ model, prompt: 'd', maxRetries: 0 }).catch(() => undefined);
    await vendor.close();
    const { connections, ...counts } = vendor.counts;
    expect(counts).toEqual({
      requests: 5,
      answered: 2,
      errors: 1,
      refused: 1,
      stalled: 0,
      cut: 1,
      streamErrors: 0,
      aborted: 0,
      inFlight: 0,
      maxInFlight: 1,
    });
    // One connection served every call; undici opens another once the cut destroys it.
    expect(connections).toBeLessThanOrEqual(2);
  });
});

describe('fake vendor wire details', () => {
  it("answers Anthropic models without native structured output through the forced `json` tool's call", async () => {
    const vendor = await start({ kind: 'anthropic', script: () => ({ json: { ok: true } }) });
    const model = anthropicModel(vendor, 'claude-sonnet-4-0');
    const output = Output.object({
      schema: jsonSchema<{ ok: boolean }>({
        type: 'object',
        properties: { ok: { type: 'boolean' } },
        required: ['ok'],
      }),
    });
    expect((await generateText({ model, prompt: 'ok?', output, maxRetries: 0 })).output).toEqual({
      ok: true,
    });
    expect(await streamText({ model, prompt: 'ok?', output, maxRetries: 0 }).output).toEqual({ ok: true });
    const body = vendor.requests[0]?.body;
    expect(body).toMatchObject({ tools: [{ name: 'json' }] });
    expect(body).not.toHaveProperty('output_config');
  });

  it("reports Anthropic's cache writes as the SDK's cacheWriteTokens", async () => {
    const vendor = await start({
      kind: 'anthropic',
      usage: { inputTokens: 1000, cachedInputTokens: 200, cacheWriteTokens: 700, outputTokens: 10 },
    });
    const { usage } = await generateText({ model: anthropicModel(vendor), prompt: 'Hi', maxRetries: 0 });
    expect(usage).toMatchObject({
      inputTokens: 1000,
      inputTokenDetails: { noCacheTokens: 100, cacheReadTokens: 200, cacheWriteTokens: 700 },
    });
  });

  it('starts an overloaded Anthropic stream with its error event, which the provider turns into a 529', async () => {
    const vendor = await start({ kind: 'anthropic', script: () => ({ streamError: { afterChunks: 0 } }) });
    const { error } = await failedStream(anthropicModel(vendor));
    expect(error).toMatchObject({ statusCode: 529, isRetryable: true, message: 'Overloaded' });
  });

  it("says when to retry a Gemini 429 in the body's RetryInfo, with no retry-after header, as Gemini does", async () => {
    const vendor = await start({ kind: 'google', script: () => ({ error: 429, retryAfterS: 12 }) });
    const model = createGoogleGenerativeAI({ baseURL: vendor.url, apiKey: vendor.apiKey })(
      'gemini-2.5-flash',
    );
    const error = await apiCallError(generateText({ model, prompt: 'Hi', maxRetries: 0 }));
    expect(error.responseHeaders).not.toHaveProperty('retry-after');
    expect(error.data).toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: expect.arrayContaining([
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' },
        ]),
      },
    });
  });

  it('streams OpenAI chat usage only when stream_options.include_usage asks', async () => {
    const vendor = await start({ kind: 'openai' });
    const headers = { authorization: `Bearer ${vendor.apiKey}` };
    const request = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] };
    const without = await post(`${vendor.url}/chat/completions`, request, headers);
    expect(without.text).not.toContain('"usage"');
    expect(without.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const withUsage = await post(
      `${vendor.url}/chat/completions`,
      { ...request, stream_options: { include_usage: true } },
      headers,
    );
    expect(withUsage.text).toContain('"choices":[],"usage":{"prompt_tokens"');
  });

  it('refuses an Anthropic request without the anthropic-version header, as the API does', async () => {
    const vendor = await start({ kind: 'anthropic' });
    const answer = await post(
      `${vendor.url}/messages`,
      { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
      { 'x-api-key': vendor.apiKey },
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
  });

  it('serves many concurrent calls over kept-alive connections', async () => {
    const vendor = await start({ kind: 'openai', latencyMs: 5 });
    const model = openaiChat(vendor);
    const calls = 300;
    let next = 0;
    const worker = async () => {
      while (next < calls) {
        const n = next++;
        const { text } = await generateText({ model, prompt: `task ${n}`, maxRetries: 0 });
        expect(text).toBe(`echo: task ${n}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await vendor.close();
    expect(vendor.counts).toMatchObject({ requests: calls, answered: calls, aborted: 0, inFlight: 0 });
    expect(vendor.counts.maxInFlight).toBeLessThanOrEqual(32);
    // undici may open a socket while another is being returned to its pool, but reuses them.
    expect(vendor.counts.connections).toBeLessThan(calls / 2);
  });
});
