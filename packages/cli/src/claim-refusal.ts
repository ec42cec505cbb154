import { EXIT } from './errors';
import type { Output } from './output';

export type ClaimRefusal = { outcome: 'settled' } | { outcome: 'lost'; owner?: string };

/** Why a claim settled nothing: the words `swarm report|renew|fail` and the MCP tools both use. */
export function refusalReason(refusal: ClaimRefusal): string {
  return refusal.outcome === 'settled'
    ? 'already settled: this task was completed, retried or dead-lettered before; nothing was written'
    : `lease lost: the lease lapsed and ${refusal.owner ?? 'another worker'} holds this task now; nothing was written`;
}

/**
 * A claim that no longer holds its task: settled already (by this claim or by whoever took it
 * over), or held by another worker since its lease lapsed. Nothing was written; exit 4.
 */
export function refuseClaim(out: Output, handle: string, refusal: ClaimRefusal): number {
  const reason = refusalReason(refusal);
  out.note(`swarm: ${reason}`);
  out.result('', { outcome: refusal.outcome, claim: handle, reason });
  return EXIT.notHeld;
}
