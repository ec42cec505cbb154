import { Observable } from 'rxjs';
import type { Clock, ClockTimer } from '../clock';
import { decodeFinding, findingFromJson, isMalformedFinding } from '../codec';
import type { Finding } from '../messages';
import { compareIds } from './stream-id';
import type { FindingsBroadcast, Transport } from './transport';

/**
 * Where a findings reader starts: 'start' replays everything kept, 'now' only what comes next,
 * a stream id resumes after that id, a Date replays from that time on.
 */
export type FindingsFrom = 'start' | 'now' | string | Date;

const PAGE = 500;
/** Safety net behind the pub/sub doorbell, which is at-most-once. */
const POLL_MS = 1_000;

/**
 * Replays the findings stream from a cursor, then tails it: the doorbell says "read now", the
 * stream says what. Ordered, gap-free, and a reader that re-subscribes with its last id misses nothing.
 */
export function readFindings$(
  transport: Transport,
  clock: Clock,
  swarm: string,
  from: FindingsFrom,
): Observable<Finding> {
  return new Observable<Finding>((subscriber) => {
    let cursor: { after: string } | { start: string } | undefined;
    let draining = false;
    let again = false;
    let pollTimer: ClockTimer | undefined;
    /** Broadcasts that arrived during a read: taken after it, when they follow on from it. */
    let pending: FindingsBroadcast[] = [];

    const lastTaken = () =>
      cursor && ('after' in cursor ? cursor.after : cursor.start === '-' ? '0-0' : undefined);

    /** Takes a broadcast that follows on from the cursor; true when nothing in it is missing. */
    const take = (broadcast: FindingsBroadcast): boolean => {
      const last = lastTaken();
      if (last === undefined) return false;
      // A foreign publisher on the channel may send anything: only ids let it follow the stream.
      const ids = broadcast.findings.map((f: unknown) => (f as { id?: unknown } | null)?.id);
      if (!ids.every((id) => typeof id === 'string' && /^\d+-\d+$/.test(id))) return false;
      const newest = ids.at(-1) as string | undefined;
      if (newest !== undefined && compareIds(newest, last) <= 0) return true; // read already
      if (broadcast.prev !== last) return false;
      // Held to the same rules as a stream read; one that falls short is read from the stream,
      // so a live reader and a replaying one hand over the same stand-in for it.
      const findings = broadcast.findings.map((f, i) => findingFromJson(swarm, ids[i] as string, f, ''));
      if (findings.some(isMalformedFinding)) return false;
      for (const finding of findings) {
        if (subscriber.closed) return true;
        subscriber.next(finding);
        cursor = { after: finding.id };
      }
      return true;
    };
    const ring = (broadcast: FindingsBroadcast | undefined) => {
      if (broadcast && draining) {
        // A busy stream rings during every read: keep the broadcasts rather than read again.
        if (pending.length < 1_000) pending.push(broadcast);
        else again = true;
        return;
      }
      if (!broadcast || !take(broadcast)) safeDrain();
    };
    const drain = async (): Promise<void> => {
      if (draining) {
        again = true;
        return;
      }
      draining = true;
      try {
        do {
          again = false;
          if (!cursor) cursor = await initialCursor(transport, swarm, from);
          for (;;) {
            const page = await transport.readFindings(swarm, cursor, PAGE);
            for (const entry of page) {
              if (subscriber.closed) return;
              subscriber.next(decodeFinding(swarm, entry.id, entry.fields));
              cursor = { after: entry.id };
            }
            if (page.length < PAGE) break;
          }
          const arrived = pending;
          pending = [];
          for (const broadcast of arrived) if (!take(broadcast)) again = true;
        } while (again && !subscriber.closed);
      } finally {
        draining = false;
      }
    };
    const safeDrain = () => {
      drain().catch(() => {
        // A failed read (Redis away) is retried by the next doorbell or poll.
      });
    };
    /** The safety net behind the at-most-once doorbell: one cheap look at the newest id. */
    const check = async () => {
      if (draining) return;
      const last = lastTaken();
      if (last === undefined || (await transport.lastFindingId(swarm)) !== last) await drain();
    };
    const poll = () => {
      pollTimer = clock.setTimeout(() => {
        check().catch(() => {});
        poll();
      }, POLL_MS);
    };
    // Listen before the first read, so nothing written in between goes unnoticed.
    const doorbell = transport.findingsDoorbell$(swarm).subscribe(ring);
    poll();
    drain().catch((error: unknown) => subscriber.error(error));
    return () => {
      doorbell.unsubscribe();
      if (pollTimer) clock.clearTimeout(pollTimer);
    };
  });
}

async function initialCursor(
  transport: Transport,
  swarm: string,
  from: FindingsFrom,
): Promise<{ after: string } | { start: string }> {
  if (from === 'start') return { start: '-' };
  if (from === 'now') return { after: await transport.lastFindingId(swarm) };
  if (from instanceof Date) return { start: `${from.getTime()}-0` };
  return { after: from };
}
