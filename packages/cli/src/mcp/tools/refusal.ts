/** Why a claim settled nothing: the words `swarm report|renew|fail` print for exit 4. */
export function refusalReason(refusal: { outcome: 'settled' } | { outcome: 'lost'; owner?: string }): string {
  return refusal.outcome === 'settled'
    ? 'already settled: this task was completed, retried or dead-lettered before; nothing was written'
    : `lease lost: the lease lapsed and ${refusal.owner ?? 'another worker'} holds this task now; nothing was written`;
}
