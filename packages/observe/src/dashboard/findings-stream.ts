import { type Bus, type Finding, laterId } from '@swarm/core';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Subscription } from 'rxjs';
import { DEFAULT_LIVE_RATE, type LiveRate, LiveRateBucket } from './live-rate';

/**
 * A reconnecting client is sent again what came this long before its Last-Event-ID in every swarm.
 * The id is one stream's, but the page follows many: a finding of another swarm written a moment
 * before it may have been on its way when the connection broke. The page drops what it has by id.
 */
export const RESUME_GRACE_MS = 5_000;
/** How often a stream looks for swarms that appeared after it opened. */
const NEW_SWARMS_EVERY_MS = 3_000;
/** A comment line now and then, so proxies keep the connection and a dead client is noticed. */
const KEEP_ALIVE_MS = 15_000;
/**
 * Events waiting for a slow client: past this the stream closes, and the browser reconnects with
 * its Last-Event-ID and is sent the rest from Redis, rather than the server holding it all.
 */
const MAX_QUEUED = 10_000;
/** Windows back from the newest finding searched for a fresh page's recent findings. */
const RECENT_WINDOWS_MS = [1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, 30 * 86_400_000];

export interface FindingsStreamOptions {
  /** Only these swarms (default: every swarm, including those that appear later). */
  swarms?: readonly string[];
  /** Findings per swarm a fresh client (no Last-Event-ID) is sent from before it connected. */
  recent: number;
  /** Findings sent live per swarm before the stream samples instead (default DEFAULT_LIVE_RATE). */
  liveRate?: LiveRate;
}

/** While a swarm's findings come faster than its live rate: how often a sample is sent, and how many. */
const SAMPLE_EVERY_MS = 1_000;
const SAMPLE_SIZE = 20;
/** Stretches back from the newest finding searched for a sample: the widest that holds a second's rate. */
const SAMPLE_WINDOWS_MS = [100, 10, 1];

const STREAM_ID = /^(\d+)-(\d+)$/;

/**
 * The newest `count` findings of a swarm, oldest first, and the id to follow on from: found by
 * widening a window back from the newest finding until it holds more than `count`, reading at
 * most count + 1 findings per try (the Bus reads forwards only).
 */
async function recentFindings(
  bus: Bus,
  swarm: string,
  count: number,
): Promise<{ findings: Finding[]; after: string }> {
  const last = await bus.lastFindingId(swarm);
  if (last === '0-0' || count === 0) return { findings: [], after: last };
  const newestMs = Number(STREAM_ID.exec(last)?.[1] ?? 0);
  let best: Finding[] = [];
  for (const window of [...RECENT_WINDOWS_MS, Number.POSITIVE_INFINITY]) {
    const from = Number.isFinite(window) ? Math.max(0, newestMs - window) : 0;
    const page = await bus.readFindings(swarm, { after: from === 0 ? '0-0' : `${from}-0`, count: count + 1 });
    if (page.length > count) break;
    best = page;
    if (!Number.isFinite(window) || from === 0) break;
  }
  if (best.length === 0) {
    // The window holding `count` is narrower than 1 s: take the last `count` of the newest second
    // (a second, not a millisecond: findings written a few ms apart were dropped).
    const page = await bus.readFindings(swarm, {
      after: `${Math.max(0, newestMs - 1_000)}-0`,
      count: 10_000,
    });
    best = page.slice(-count);
  }
  return { findings: best, after: best.at(-1)?.id ?? last };
}

/** The largest sequence number of a stream id: `(<ms-1>-MAX_SEQ` starts a read at millisecond ms. */
const MAX_SEQ = '18446744073709551615';

/**
 * The newest SAMPLE_SIZE findings after `after`, found without reading what came between: Redis
 * numbers the entries of one millisecond 0, 1, 2…, so when the newest millisecond holds SAMPLE_SIZE
 * they are named by id; else the widest window back from it that holds at most `limit` (read in
 * one call) is read, and its last SAMPLE_SIZE taken. Every read is bounded by `limit`.
 */
async function newestSample(bus: Bus, swarm: string, after: string, limit: number): Promise<Finding[]> {
  const [, msText = '0', seqText = '0'] = STREAM_ID.exec(await bus.lastFindingId(swarm)) ?? [];
  const ms = Number(msText);
  const seq = Number(seqText);
  const read = async (from: string) =>
    bus.readFindings(swarm, { after: laterId(after, from), count: limit + 1 });
  if (seq >= SAMPLE_SIZE) return (await read(`${ms}-${seq - SAMPLE_SIZE}`)).slice(0, SAMPLE_SIZE);
  for (const window of SAMPLE_WINDOWS_MS) {
    const page = await read(`${Math.max(0, ms - window)}-0`);
    if (page.length <= limit) return page.slice(-SAMPLE_SIZE);
  }
  // The newest millisecond alone, which holds fewer than SAMPLE_SIZE.
  return (await read(ms > 0 ? `${ms - 1}-${MAX_SEQ}` : '0-0')).slice(-SAMPLE_SIZE);
}

/**
 * Server-Sent Events of every swarm's findings, each event's id the finding's stream id. A
 * browser that reconnects sends the last one as Last-Event-ID, and is sent everything after it
 * (less RESUME_GRACE_MS), read from Redis: nothing written while it was away is missed.
 */
export function findingsStream(
  c: Context,
  bus: Bus,
  options: FindingsStreamOptions,
  onOpen: (close: () => void) => () => void,
): Response {
  // The query's form is for a page that had to open a new EventSource (one that failed for good
  // sends no Last-Event-ID of its own).
  const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId');
  // A partitioned swarm's ids name their partition (`p:<id>`); the time is the stream id's either way.
  const resumeMatch = lastEventId ? /^(?:\d+:)?(\d+)-\d+$/.exec(lastEventId) : null;
  const resumeMs = resumeMatch ? Number(resumeMatch[1]) : undefined;
  return streamSSE(c, async (stream) => {
    const following = new Map<string, Subscription>();
    // Events are written in batches: whatever arrived while the last write was in flight goes out
    // as one chunk. A write per finding costs a pass through web streams each, which at thousands
    // of findings a second was most of the dashboard's CPU.
    let pending: string[] = [];
    let flushQueued = false;
    let chain: Promise<unknown> = Promise.resolve();
    let closed = false;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const close = () => {
      if (closed) return;
      closed = true;
      pending = [];
      for (const s of following.values()) s.unsubscribe();
      finish();
    };
    const send = (text: string) => {
      if (closed) return;
      pending.push(text);
      if (pending.length > MAX_QUEUED) return close();
      if (flushQueued) return;
      flushQueued = true;
      chain = chain.then(async () => {
        flushQueued = false;
        const batch = pending.join('');
        pending = [];
        if (!closed) await stream.write(batch);
      });
    };
    // JSON has no raw line break, so the data is one `data:` line.
    const sendFinding = (finding: Finding) =>
      send(`event: finding\ndata: ${JSON.stringify(finding)}\nid: ${finding.id}\n\n`);

    const open = async (swarm: string, startedLater: boolean) => {
      if (following.has(swarm) || closed) return;
      // Reserve the slot before the first await, so a poll racing this one opens nothing twice.
      const placeholder = { unsubscribe() {} } as Subscription;
      following.set(swarm, placeholder);
      let after: string | Date;
      // From a time, not an id: a time holds in every partition of a partitioned swarm.
      if (resumeMs !== undefined) after = new Date(Math.max(0, resumeMs - RESUME_GRACE_MS));
      else if (startedLater) after = '0-0';
      else {
        const recent = await recentFindings(bus, swarm, options.recent);
        for (const finding of recent.findings) sendFinding(finding);
        after = recent.after;
      }
      if (closed) return;
      followLive(swarm, after, new LiveRateBucket(options.liveRate ?? DEFAULT_LIVE_RATE));
    };

    /** Every finding after `after`, as it comes, while the swarm stays within its live rate. */
    const followLive = (swarm: string, after: string | Date, bucket: LiveRateBucket) => {
      let lastSent = typeof after === 'string' ? after : `${after.getTime()}-0`;
      let over = false;
      let subscription: Subscription | undefined;
      subscription = bus.findings$(swarm, { from: after }).subscribe({
        next: (finding) => {
          if (over) return;
          if (bucket.take()) {
            lastSent = finding.id;
            sendFinding(finding);
            return;
          }
          over = true;
          // What the reader had read ahead is dropped: the samples start after lastSent.
          subscription?.unsubscribe();
          sample(swarm, lastSent, bucket);
        },
        // A swarm whose findings cannot be read (Redis away for good) ends the stream: the
        // browser reconnects and resumes from its Last-Event-ID.
        error: () => close(),
      });
      // Over already (a reader that handed findings over inside subscribe): sample() holds the slot.
      if (over) subscription.unsubscribe();
      else following.set(swarm, subscription);
    };

    /**
     * Too many findings to send each: every SAMPLE_EVERY_MS, if what came since `lastSent` is
     * still more than a second's rate, a `gap` event and a sample of the newest findings; once it
     * is less, those findings and back to following live.
     */
    const sample = (swarm: string, after: string, bucket: LiveRateBucket) => {
      const perSecond = (options.liveRate ?? DEFAULT_LIVE_RATE).perSecond;
      let lastSent = after;
      let busy = false;
      const tick = async () => {
        if (busy || closed) return;
        busy = true;
        try {
          const next = await bus.readFindings(swarm, { after: lastSent, count: perSecond });
          if (closed) return;
          if (next.length < perSecond) {
            clearInterval(timer);
            for (const finding of next) sendFinding(finding);
            followLive(swarm, next.at(-1)?.id ?? lastSent, bucket);
            return;
          }
          const recent = await newestSample(bus, swarm, lastSent, perSecond);
          const first = recent[0];
          if (closed || !first) return;
          send(`event: gap\ndata: ${JSON.stringify({ swarm, after: lastSent, before: first.id })}\n\n`);
          for (const finding of recent) sendFinding(finding);
          lastSent = recent.at(-1)?.id ?? lastSent;
        } catch {
          close();
        } finally {
          busy = false;
        }
      };
      const timer = setInterval(() => void tick(), SAMPLE_EVERY_MS);
      following.set(swarm, { unsubscribe: () => clearInterval(timer) } as Subscription);
    };

    const wanted = (swarm: string) => options.swarms === undefined || options.swarms.includes(swarm);
    const openAll = async (startedLater: boolean) => {
      const swarms = options.swarms ?? (await bus.swarms());
      await Promise.all(swarms.filter(wanted).map((s) => open(s, startedLater)));
    };

    const offShutdown = onOpen(close);
    stream.onAbort(close);
    const timers = [
      setInterval(() => {
        if (options.swarms === undefined) openAll(true).catch(() => {});
      }, NEW_SWARMS_EVERY_MS),
      setInterval(() => send(': keep-alive\n\n'), KEEP_ALIVE_MS),
    ];
    try {
      // The retry delay a browser waits before reconnecting; an event without an id leaves its Last-Event-ID be.
      await stream.writeSSE({ event: 'hello', data: '{}', retry: 1_000 });
      await openAll(false);
      send(`event: live\ndata: ${JSON.stringify({ swarms: [...following.keys()] })}\n\n`);
      await finished;
    } catch {
      close();
    } finally {
      for (const timer of timers) clearInterval(timer);
      offShutdown();
    }
  });
}
