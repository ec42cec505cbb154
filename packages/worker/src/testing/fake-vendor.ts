import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonValue } from '@swarm/core';
import { buildAnswer } from './answer';
import { type Delivery, deliver, type Outcome, sendHttpAnswer } from './deliver';
import type {
  FakeReply,
  FakeRequest,
  FakeVendor,
  FakeVendorCounts,
  FakeVendorKind,
  FakeVendorOptions,
} from './types';
import { anthropic } from './vendors/anthropic';
import { google } from './vendors/google';
import { openai } from './vendors/openai';
import { type Endpoint, type HttpAnswer, isObject, type RequestFacts, type Vendor } from './vendors/wire';

const VENDORS: Record<FakeVendorKind, Vendor> = { anthropic, openai, google };

const REDACTED = '<redacted>';

/**
 * A local HTTP server that speaks one model vendor's API (its paths, auth, JSON and server-sent
 * events, errors), so the real AI SDK providers can be tested and benchmarked without a network.
 */
export async function startFakeVendor(options: FakeVendorOptions): Promise<FakeVendor> {
  const fake = new FakeVendorServer(options);
  return fake.listen(options.port ?? 0);
}

class FakeVendorServer {
  readonly #options: FakeVendorOptions;
  readonly #vendor: Vendor;
  readonly #apiKey: string;
  readonly #requests: FakeRequest[] = [];
  readonly #counts: FakeVendorCounts = {
    requests: 0,
    answered: 0,
    errors: 0,
    refused: 0,
    stalled: 0,
    cut: 0,
    streamErrors: 0,
    aborted: 0,
    inFlight: 0,
    maxInFlight: 0,
    connections: 0,
  };
  /** Requests that reached the script: its `n`, and each answer's id. */
  #scripted = 0;
  /** Responses not closed yet: close() waits for them, so the counts are final when it resolves. */
  readonly #open = new Set<Promise<void>>();
  readonly #server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    this.#handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });

  constructor(options: FakeVendorOptions) {
    this.#options = options;
    this.#vendor = VENDORS[options.kind];
    this.#apiKey = options.apiKey ?? 'fake-key';
  }

  async listen(port: number): Promise<FakeVendor> {
    this.#server.on('connection', () => this.#counts.connections++);
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    const { port: bound } = this.#server.address() as AddressInfo;
    const server = this.#server;
    const open = this.#open;
    return {
      kind: this.#options.kind,
      url: `http://127.0.0.1:${bound}${this.#vendor.basePath}`,
      apiKey: this.#apiKey,
      requests: this.#requests,
      counts: this.#counts,
      close: async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // The server reports closed before its sockets' close events, which end the responses.
        await Promise.all([closed, ...open]);
      },
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tracking = this.#track(res);
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = parseJson(await readBody(req));
    const endpoint = this.#vendor.endpoint(req.method ?? 'GET', url);
    const facts = endpoint !== undefined && isObject(body) ? endpoint.read(body, url) : undefined;
    const request = this.#record(req, url, body, endpoint, facts);

    const refusal = this.#refusal(req, url, body, endpoint, request);
    if (refusal !== undefined || endpoint === undefined || facts === undefined) {
      this.#counts.refused++;
      sendHttpAnswer(res, refusal ?? this.#vendor.badRequest('Invalid request'));
      return;
    }
    const n = this.#scripted++;
    const reply = await this.#scriptReply(request, n).catch(
      (error: unknown): FakeReply => ({
        error: 500,
        message: `fake vendor script threw: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
    const outcome = await deliver({
      res,
      vendor: this.#vendor,
      endpoint,
      facts,
      answer: buildAnswer(n, this.#options, reply, request, facts),
      reply,
      ...this.#timing(reply),
      ...tracking,
    });
    this.#count(outcome);
  }

  /** Counts the response in flight until it closes, and says when its client went away. */
  #track(res: ServerResponse): Pick<Delivery, 'closed' | 'ending'> {
    const counts = this.#counts;
    counts.requests++;
    counts.inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    const closing = new AbortController();
    const ending = { byServer: false };
    const closed = new Promise<void>((resolve) =>
      res.on('close', () => {
        counts.inFlight--;
        // Only an unfinished response has waits to end (aborting builds a DOMException: not per request).
        if (!res.writableFinished) {
          if (!ending.byServer) counts.aborted++;
          closing.abort();
        }
        this.#open.delete(closed);
        resolve();
      }),
    );
    this.#open.add(closed);
    return { closed: closing.signal, ending };
  }

  /** The reply's own timing, else the vendor's. */
  #timing(reply: FakeReply | undefined): Pick<Delivery, 'latencyMs' | 'firstTokenMs'> {
    const options = this.#options;
    return {
      latencyMs:
        (reply !== undefined && 'latencyMs' in reply ? reply.latencyMs : undefined) ?? options.latencyMs ?? 0,
      firstTokenMs:
        (reply !== undefined && 'firstTokenMs' in reply ? reply.firstTokenMs : undefined) ??
        options.firstTokenMs ??
        0,
    };
  }

  /** What the real API would refuse before answering: an unknown path, a key, a malformed body. */
  #refusal(
    req: IncomingMessage,
    url: URL,
    body: JsonValue | undefined,
    endpoint: Endpoint | undefined,
    request: FakeRequest,
  ): HttpAnswer | undefined {
    const vendor = this.#vendor;
    if (endpoint === undefined) return vendor.notFound(req.method ?? 'GET', url);
    if (request.auth !== 'ok') return vendor.unauthorized(vendor.apiKey(req.headers, url));
    if (!isObject(body)) return vendor.badRequest('The request body is not valid JSON.');
    return vendor.check(req.headers, body, endpoint);
  }

  async #scriptReply(request: FakeRequest, n: number): Promise<FakeReply | undefined> {
    const script = this.#options.script;
    if (script === undefined) return undefined;
    return typeof script === 'function' ? await script(request, n) : script[n];
  }

  #count(outcome: Outcome): void {
    const counts = this.#counts;
    if (outcome === 'answered') counts.answered++;
    else if (outcome === 'error') counts.errors++;
    else if (outcome === 'stalled') counts.stalled++;
    else if (outcome === 'cut') counts.cut++;
    else if (outcome === 'streamError') counts.streamErrors++;
  }

  #record(
    req: IncomingMessage,
    url: URL,
    body: JsonValue | undefined,
    endpoint: Endpoint | undefined,
    facts: RequestFacts | undefined,
  ): FakeRequest {
    const key = this.#vendor.apiKey(req.headers, url);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = this.#vendor.keyHeaders.includes(name) ? REDACTED : String(value);
    }
    if (url.searchParams.has('key')) url.searchParams.set('key', REDACTED);
    const request: FakeRequest = {
      endpoint: endpoint?.name ?? 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      auth: !key ? 'missing' : key === this.#apiKey ? 'ok' : 'invalid',
      model: facts?.model ?? '',
      stream: facts?.stream ?? false,
      system: facts?.system ?? '',
      prompt: facts?.userMessages.join('\n\n') ?? '',
      structured: facts?.structured ?? false,
      ...(facts?.schema !== undefined && { schema: facts.schema }),
      body: body ?? null,
    };
    this.#requests.push(request);
    return request;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
