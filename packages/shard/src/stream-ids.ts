/** Orders stream entry ids ("<ms>-<seq>") as Redis does. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** The later of two ids; `undefined` counts as before everything. */
export function laterId(a: string | undefined, b: string): string {
  return a === undefined || compareStreamIds(b, a) > 0 ? b : a;
}
