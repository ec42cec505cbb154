import { EXIT } from './errors';
import type { Output } from './output';

/**
 * A claim that no longer holds its task: settled already (by this claim or by whoever took it
 * over), or held by another worker since its lease lapsed. Nothing was written; exit 4.
 */
export function refuseClaim(
  out: Output,
  handle: string,
  refusal: { outcome: 'settled' } | { outcome: 'lost'; owner?: string },
): number {
  const reason =
    refusal.outcome === 'settled'
      ? 'already settled: this task was completed, retried or dead-lettered before'
      : `lease lost: the lease lapsed and ${refusal.owner ?? 'another worker'} holds this task now`;
  out.note(`swarm: ${reason}; nothing was written`);
  out.result('', { outcome: refusal.outcome, claim: handle, reason });
  return EXIT.notHeld;
}
