/** What the broadcast benchmark publishes (a finding's `data`, or a pub/sub message's), and its clock. */

export type BroadcastMessage =
  | { phase: 'warmup'; seq: number }
  | { phase: 'throughput'; seq: number }
  /** sentAt: clockMs() just before the publish call; measured: false for warm-up samples. */
  | { phase: 'latency'; seq: number; sentAt: number; measured: boolean };

/**
 * Milliseconds on a clock every process of the machine shares: process.hrtime is the system's
 * monotonic clock (CLOCK_MONOTONIC on Linux), so a time taken in the publisher can be subtracted
 * from one taken in a subscriber process. (performance.timeOrigin + performance.now() mixes in a
 * wall-clock reading taken once per process, so two processes can disagree by whatever the wall
 * clock was adjusted between their starts.)
 */
export function clockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
