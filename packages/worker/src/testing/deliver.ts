import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitIntoChunks } from './answer';
import type { FakeReply } from './types';
import type { Answer, Endpoint, HttpAnswer, RequestFacts, StreamFrames, Vendor } from './vendors/wire';

/** How a delivery ended, for the counters. */
export type Outcome = 'answered' | 'error' | 'stalled' | 'cut' | 'streamError' | 'aborted';

export interface Delivery {
  res: ServerResponse;
  vendor: Vendor;
  endpoint: Endpoint;
  facts: RequestFacts;
  answer: Answer;
  reply: FakeReply | undefined;
  latencyMs: number;
  firstTokenMs: number;
  /** Aborted when the client goes away (or the fake closes). */
  closed: AbortSignal;
  /** Set when the fake itself destroys the connection (a cut), which is no client abort. */
  ending: { byServer: boolean };
}

/** The error a reply asks for as a whole HTTP answer, if it is one in this mode. */
function errorAnswer(delivery: Delivery): HttpAnswer | undefined {
  const { reply, vendor, facts } = delivery;
  if (reply !== undefined && 'error' in reply)
    return vendor.error(reply.error, {
      retryAfterS: reply.retryAfterS ?? (reply.error === 429 ? 1 : undefined),
      ...(reply.message !== undefined && { message: reply.message }),
    });
  if (reply !== undefined && 'streamError' in reply && !facts.stream)
    return vendor.error(reply.streamError.status ?? vendor.overloadedStatus, {});
  return undefined;
}

export function sendHttpAnswer(res: ServerResponse, answer: HttpAnswer): void {
  sendJson(res, answer.status, answer.headers, JSON.stringify(answer.body));
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Time since the request, and waits that end early when the client goes away. */
class Schedule {
  readonly #started = performance.now();
  readonly #closed: AbortSignal;

  constructor(closed: AbortSignal) {
    this.#closed = closed;
  }

  elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** Waits until `ms` after the request; false if the client went away. */
  async until(ms: number): Promise<boolean> {
    const delay = ms - this.elapsedMs();
    if (delay > 0) await sleep(delay, undefined, { signal: this.#closed }).catch(() => undefined);
    return !this.#closed.aborted;
  }
}

/** Sends the reply with its timing; resolves when the response ended, was cut, or the client left. */
export async function deliver(delivery: Delivery): Promise<Outcome> {
  const { res, reply, facts } = delivery;
  const schedule = new Schedule(delivery.closed);
  const error = errorAnswer(delivery);
  if (error !== undefined) {
    if (!(await schedule.until(reply !== undefined && 'latencyMs' in reply ? (reply.latencyMs ?? 0) : 0)))
      return 'aborted';
    sendHttpAnswer(res, error);
    return reply !== undefined && 'streamError' in reply ? 'streamError' : 'error';
  }
  if (reply !== undefined && 'stall' in reply && (reply.stall === true || !facts.stream)) {
    // Streaming: the headers go, then nothing; non-streaming: not even the headers.
    if (facts.stream) startStream(delivery);
    return 'stalled';
  }
  return facts.stream ? await stream(delivery, schedule) : await respond(delivery, schedule);
}

/** Destroys the connection once what was written has gone out: the client gets it, then no end. */
function destroyAfter({ res, ending }: Delivery, data: string): void {
  ending.byServer = true;
  if (data === '') res.destroy();
  else res.write(data, () => res.destroy());
}

async function respond(delivery: Delivery, schedule: Schedule): Promise<Outcome> {
  const { res, reply, vendor, endpoint, answer } = delivery;
  if (!(await schedule.until(Math.max(delivery.latencyMs, delivery.firstTokenMs)))) return 'aborted';
  const body = JSON.stringify(endpoint.respond(answer));
  if (reply !== undefined && 'cut' in reply) {
    // Chunked, so the client cannot tell from a length that the body is short, only from the end.
    res.writeHead(200, { 'content-type': 'application/json', ...vendor.responseHeaders() });
    const half = body.slice(0, Math.floor(body.length / 2));
    if (reply.cut.clean) res.end(half);
    else destroyAfter(delivery, half);
    return 'cut';
  }
  sendJson(res, 200, vendor.responseHeaders(), body);
  return 'answered';
}

function startStream({ res, vendor }: Delivery): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...vendor.responseHeaders(),
  });
  res.flushHeaders();
}

/** Where a stream stops early, and how. */
function faultOf(
  reply: FakeReply | undefined,
): { afterChunks: number; outcome: Outcome; clean: boolean } | undefined {
  if (reply === undefined) return undefined;
  if ('stall' in reply && reply.stall !== true)
    return { afterChunks: reply.stall.afterChunks, outcome: 'stalled', clean: false };
  if ('cut' in reply)
    return { afterChunks: reply.cut.afterChunks, outcome: 'cut', clean: reply.cut.clean === true };
  if ('streamError' in reply)
    return { afterChunks: reply.streamError.afterChunks, outcome: 'streamError', clean: true };
  return undefined;
}

async function stream(delivery: Delivery, schedule: Schedule): Promise<Outcome> {
  const { res, reply, vendor, endpoint, answer, facts } = delivery;
  const frames: StreamFrames = endpoint.stream(answer, facts);
  const chunks = splitIntoChunks(answer.text);
  const fault = faultOf(reply);
  const errorStatus = reply !== undefined && 'streamError' in reply ? reply.streamError.status : undefined;
  const errorFrame = frames.error(errorStatus ?? vendor.overloadedStatus);

  startStream(delivery);
  // An error before anything else: Anthropic's overloaded stream starts with its error event.
  if (fault?.outcome === 'streamError' && fault.afterChunks <= 0) {
    res.end(errorFrame);
    return 'streamError';
  }
  // Frames due together go out in one write; before a wait, what is due goes first.
  let pending = frames.head;
  const flush = (): void => {
    if (pending !== '') res.write(pending);
    pending = '';
  };
  const first = delivery.firstTokenMs;
  const total = Math.max(delivery.latencyMs, first);
  const step = chunks.length > 0 ? (total - first) / chunks.length : 0;
  const sent = fault === undefined ? chunks : chunks.slice(0, fault.afterChunks);
  for (const [i, chunk] of sent.entries()) {
    if (schedule.elapsedMs() < first + i * step) flush();
    if (!(await schedule.until(first + i * step))) return 'aborted';
    pending += frames.delta(chunk);
  }
  if (fault === undefined) {
    if (schedule.elapsedMs() < total) flush();
    if (!(await schedule.until(total))) return 'aborted';
    res.end(pending + frames.tail);
    return 'answered';
  }
  if (fault.outcome === 'streamError') res.end(pending + errorFrame);
  else if (fault.outcome === 'stalled') flush();
  else if (fault.clean) res.end(pending);
  else destroyAfter(delivery, pending);
  return fault.outcome;
}
