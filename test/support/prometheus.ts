/**
 * Reads Prometheus exposition text into `name{label="value",...}` → value, labels sorted, so a
 * test compares exact numbers. Comments (# HELP, # TYPE) are skipped.
 */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, rawLabels = '', value] = match;
    const labels = [...rawLabels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    samples.set(labels.length > 0 ? `${name}{${labels.join(',')}}` : String(name), Number(value));
  }
  return samples;
}

/** `name{a="1",b="2"}` with the labels sorted, as parseExposition keys its samples. */
export function sample(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return pairs.length > 0 ? `${name}{${pairs.join(',')}}` : name;
}
