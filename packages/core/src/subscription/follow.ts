import type { Logger } from 'pino';
import { Observable, type Subscription } from 'rxjs';
import { isRefusal } from '../bus/consumer';
import type { FindingsFrom } from '../bus/findings-reader';
import { advanceFindingsCursor, findingsCursorHolds } from '../bus/partition-ids';
import type { Transport } from '../bus/transport';
import type { Clock, ClockTimer } from '../clock';
import { assertName } from '../keys';
import type { Finding } from '../messages';
import { CursorWriter } from './cursor-writer';
import { type FindingFilter, findingMatcher } from './finding-filter';
import { splitSwarms, swarmMatcher } from './swarm-pattern';

export interface FollowOptions extends FindingFilter {
  /** Swarm names and glob patterns (`research-*`); a pattern also picks up swarms that appear later. */
  swarms: readonly string[];
  /**
   * Durable subscriber name. Its cursor into each source swarm is stored in that swarm
   * (`swarm:{S}:cursors`), so a subscriber that restarts under the same name resumes where it
   * stopped. Without a name the subscription is transient and starts at `from` every time.
   */
  name?: string;
  /** Where a source with no stored cursor starts (default 'start'). */
  from?: 'start' | 'now' | Date;
  /**
   * Manual commit: the stored cursor moves only when a finding comes through here (the cursor
   * of its swarm moves to it), not when it is handed over. A subscriber that keeps findings in
   * memory commits once their effect is durable, so a crash replays what it had not finished.
   */
  commits?: Observable<Finding>;
  /**
   * Told the cursor after each finding handed over (kept or filtered out), per source swarm: the
   * finding's id, or for a partitioned swarm one id per partition (see lastFindingId).
   */
  onProgress?: (swarm: string, cursor: string) => void;
  /**
   * How often patterns are matched again against the transport's swarms (default 5 s). A swarm's
   * first broadcast opens it at once; this catches what a dropped broadcast would miss.
   */
  discoverEveryMs?: number;
}

export interface FollowDeps {
  transport: Transport;
  /** A swarm's findings from a cursor, every partition merged (Bus.findings$). */
  findings$(swarm: string, from: FindingsFrom): Observable<Finding>;
  /** The cursor at a swarm's newest finding (Bus.lastFindingId). */
  lastFindingId(swarm: string): Promise<string>;
  clock: Clock;
  log: Logger;
  /** Keeps the bus open until a final cursor write settles. */
  track(work: Promise<unknown>): void;
}

const RETRY_MS = 1_000;

/**
 * Findings of several swarms, merged; ordered within each source swarm (within each partition of
 * a partitioned one, whose cursor holds one id per partition). The stream is the truth
 * and pub/sub only rings the bell (see readFindings$). A durable subscriber's cursor moves once a
 * finding has been handed to it (filtered-out findings included) and is stored behind it, at most
 * one write in flight; unsubscribing stores the last one.
 */
export function follow$(deps: FollowDeps, options: FollowOptions): Observable<Finding> {
  const { transport, clock, log } = deps;
  const { names, patterns } = splitSwarms(options.swarms);
  if (options.name !== undefined) assertName('consumer', options.name);
  const matches = findingMatcher(options);
  const matchesPattern = patterns.length > 0 ? swarmMatcher(patterns) : undefined;
  const discoverEveryMs = Math.max(10, options.discoverEveryMs ?? 5_000);

  return new Observable<Finding>((subscriber) => {
    const startedAt = clock.now();
    const sources = new Map<string, Source>();
    const timers = new Set<ClockTimer>();
    const later = (fn: () => void, ms: number) => {
      const timer = clock.setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    };

    interface Source {
      reader?: Subscription;
      writer?: CursorWriter;
      /** Cursor after the last finding handed over: where a reader reopened after an error resumes. */
      last?: string;
      /** Cursor after the last finding committed (manual commits). */
      committed?: string;
    }
    const manual = options.commits !== undefined;
    /**
     * Redis refused these credentials this swarm. A swarm the subscriber named is an error it
     * must hear of; one a pattern found is someone else's, skipped (and not reopened).
     */
    const refused = (swarm: string, error: unknown) => {
      if (names.includes(swarm)) subscriber.error(error);
      else
        log.info(
          { swarm, err: String(error) },
          'pattern matched a swarm these credentials may not read; skipping it',
        );
    };

    const open = async (swarm: string, foundLater: boolean, resumeAfter?: string): Promise<void> => {
      if (sources.has(swarm) || subscriber.closed) return;
      const source: Source = { last: resumeAfter };
      sources.set(swarm, source);
      // A swarm that appears after we started has nothing older than our start worth calling "now".
      let from: FindingsFrom = options.from ?? 'start';
      if (foundLater && from === 'now') from = new Date(startedAt);
      if (options.name !== undefined) {
        const name = options.name;
        let stored: string | undefined;
        try {
          stored = (await transport.readCursors(swarm))[name];
          // 'now' means now only once: store where it landed, or a restart would skip what came between.
          if (!stored && from === 'now') from = await deps.lastFindingId(swarm);
        } catch (error) {
          if (isRefusal(error)) {
            refused(swarm, error);
            return;
          }
          log.warn({ swarm, err: String(error) }, 'cannot read the stored cursor yet; retrying');
          sources.delete(swarm);
          later(() => void open(swarm, foundLater, resumeAfter), RETRY_MS);
          return;
        }
        if (stored) from = stored;
        source.writer = new CursorWriter(
          (id) => transport.putCursor(swarm, name, id),
          (error) => log.warn({ swarm, err: String(error) }, 'could not store the cursor; will retry'),
        );
        if (!stored && typeof from === 'string' && from !== 'start') source.writer.advance(from);
        if (typeof from === 'string' && from !== 'start') source.committed = from;
      }
      if (resumeAfter !== undefined) from = resumeAfter;
      if (typeof from === 'string' && from !== 'start' && source.last === undefined) source.last = from;
      if (subscriber.closed) return;
      source.reader = deps.findings$(swarm, from).subscribe({
        next: (finding) => {
          let wanted: boolean;
          try {
            wanted = matches(finding);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          const cursor = advanceFindingsCursor(source.last, finding.id);
          source.last = cursor;
          if (wanted) subscriber.next(finding);
          // Handed over, even if the subscriber unsubscribed inside next(): the teardown's flush
          // runs a microtask later and stores this cursor too.
          if (!manual) source.writer?.advance(cursor);
          options.onProgress?.(swarm, cursor);
        },
        error: (error: unknown) => {
          if (isRefusal(error)) {
            refused(swarm, error);
            return;
          }
          // The stream is still there: read it again from what was handed over last.
          log.warn({ swarm, err: String(error) }, 'findings read failed; reopening');
          source.reader?.unsubscribe();
          sources.delete(swarm);
          if (source.writer) deps.track(source.writer.flush());
          later(() => void open(swarm, foundLater, source.last ?? resumeAfter), RETRY_MS);
        },
      });
    };

    let commitsEnded: (() => void) | undefined;
    const commitsDone = new Promise<void>((resolve) => {
      commitsEnded = resolve;
    });
    const committed = options.commits?.subscribe({
      next: (finding) => {
        const source = sources.get(finding.swarm);
        // Never past what was handed over: a commit of something not yet read would skip it.
        if (!source?.writer || source.last === undefined || !findingsCursorHolds(source.last, finding.id))
          return;
        source.committed = advanceFindingsCursor(source.committed, finding.id);
        source.writer.advance(source.committed);
      },
      complete: () => commitsEnded?.(),
      error: () => commitsEnded?.(),
    });

    const discover = async (): Promise<void> => {
      if (!matchesPattern || subscriber.closed) return;
      try {
        for (const pattern of patterns)
          for (const swarm of await transport.swarmsWithFindings(pattern))
            if (matchesPattern(swarm)) await open(swarm, discovered);
      } catch (error) {
        log.debug({ err: String(error) }, 'swarm discovery failed; will retry');
      }
      discovered = true;
      if (!subscriber.closed) later(() => void discover(), discoverEveryMs);
    };
    let discovered = false;

    for (const swarm of names) void open(swarm, false);
    const activity = patterns.map((pattern) =>
      transport.findingsActivity$(pattern).subscribe((swarm) => {
        if (!sources.has(swarm)) void open(swarm, true);
      }),
    );
    void discover();

    return () => {
      for (const a of activity) a.unsubscribe();
      for (const timer of timers) clock.clearTimeout(timer);
      for (const { reader } of sources.values()) reader?.unsubscribe();
      const flushAll = () => Promise.all([...sources.values()].map((source) => source.writer?.flush()));
      // With manual commits, the subscriber may still be finishing what it was handed (an
      // actor's stop hook): take its commits until it ends them, then store the last.
      const settled = committed && !committed.closed ? commitsDone : Promise.resolve();
      deps.track(settled.then(flushAll));
    };
  });
}
