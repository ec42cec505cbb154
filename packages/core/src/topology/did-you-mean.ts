import type { z } from 'zod';

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys an object in `schema` may have at `path` (for hints on unknown keys). */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let current: z.ZodType | undefined = schema;
  const unwrap = () => {
    for (;;) {
      const def: Def | undefined = current && defOf(current);
      const inner: z.ZodType | undefined = def?.innerType ?? (def?.type === 'pipe' ? def.in : undefined);
      if (!inner) return;
      current = inner;
    }
  };
  for (const step of path) {
    unwrap();
    const def: Def | undefined = current && defOf(current);
    if (!def) return [];
    current = def.shape?.[String(step)] ?? def.element ?? def.valueType;
  }
  unwrap();
  const shape = current && defOf(current).shape;
  return shape ? Object.keys(shape) : [];
}
