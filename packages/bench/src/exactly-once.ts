/** Throws unless every posted id was observed exactly once and nothing else was. */
export function checkExactlyOnce(
  what: string,
  posted: Set<string>,
  seen: Set<string>,
  duplicates: number,
  n: number,
): void {
  const problems: string[] = [];
  if (posted.size !== n) problems.push(`${posted.size} distinct ids posted, expected ${n}`);
  if (seen.size !== n) problems.push(`${seen.size} distinct completions observed, expected ${n}`);
  if (duplicates > 0) problems.push(`${duplicates} duplicate completions`);
  const strangers = [...seen].filter((id) => !posted.has(id)).length;
  if (strangers > 0) problems.push(`${strangers} completions for ids never posted`);
  if (problems.length > 0) throw new Error(`${what}: exactly-once check failed: ${problems.join('; ')}`);
}
