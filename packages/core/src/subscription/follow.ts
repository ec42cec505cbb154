import type { Logger } from 'pino';
import { Observable, type Subscription } from 'rxjs';
import type { FindingsFrom } from '../bus/findings-reader';
import { readFindings$ } from '../bus/findings-reader';
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
   * How often patterns are matched again against the transport's swarms (default 5 s). A swarm's
   * first broadcast opens it at once; this catches what a dropped broadcast would miss.
   */
  discoverEveryMs?: number;
}

export interface FollowDeps {
  transport: Transport;
  clock: Clock;
  log: Logger;
  /** Keeps the bus open until a final cursor write settles. */
  track(work: Promise<unknown>): void;
}

const RETRY_MS = 1_000;

/**
 * Findings of several swarms, merged; ordered within each source swarm. The stream is the truth
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
    const sources = new Map<string, { reader?: Subscription; writer?: CursorWriter }>();
    const timers = new Set<ClockTimer>();
    const later = (fn: () => void, ms: number) => {
      const timer = clock.setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    };

    const open = async (swarm: string, foundLater: boolean): Promise<void> => {
      if (sources.has(swarm) || subscriber.closed) return;
      const source: { reader?: Subscription; writer?: CursorWriter } = {};
      sources.set(swarm, source);
      // A swarm that appears after we started has nothing older than our start worth calling "now".
      let from: FindingsFrom = options.from ?? 'start';
      if (foundLater && from === 'now') from = new Date(startedAt);
      if (options.name !== undefined) {
        const name = options.name;
        try {
          const stored = (await transport.readCursors(swarm))[name];
          if (stored) from = stored;
        } catch (error) {
          log.warn({ swarm, err: String(error) }, 'cannot read the stored cursor yet; retrying');
          sources.delete(swarm);
          later(() => void open(swarm, foundLater), RETRY_MS);
          return;
        }
        source.writer = new CursorWriter(
          (id) => transport.putCursor(swarm, name, id),
          (error) => log.warn({ swarm, err: String(error) }, 'could not store the cursor; will retry'),
        );
      }
      if (subscriber.closed) return;
      source.reader = readFindings$(transport, clock, swarm, from).subscribe({
        next: (finding) => {
          let wanted: boolean;
          try {
            wanted = matches(finding);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (wanted) subscriber.next(finding);
          // Handed over, even if the subscriber unsubscribed inside next(): the teardown's flush
          // runs a microtask later and stores this id too.
          source.writer?.advance(finding.id);
        },
        error: (error: unknown) => subscriber.error(error),
      });
    };

    const discover = async (): Promise<void> => {
      if (!matchesPattern || subscriber.closed) return;
      try {
        for (const swarm of await transport.swarms())
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
      for (const { reader, writer } of sources.values()) {
        reader?.unsubscribe();
        if (writer) deps.track(Promise.resolve().then(() => writer.flush()));
      }
    };
  });
}
