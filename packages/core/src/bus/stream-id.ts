/** Stream ids as Redis makes them: `<ms>-<seq>`, strictly increasing per stream. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** The later of two ids; `undefined` counts as before everything. */
export function laterId(a: string | undefined, b: string): string {
  return a === undefined || compareIds(b, a) > 0 ? b : a;
}
