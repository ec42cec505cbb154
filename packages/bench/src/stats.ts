/** Percentiles and medians over timing samples. */

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Summary {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

export function summarize(values: readonly number[]): Summary {
  const total = values.reduce((sum, v) => sum + v, 0);
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    mean: total / values.length,
    count: values.length,
  };
}

/** Milliseconds since an earlier performance.now(). */
export function msSince(start: number): number {
  return performance.now() - start;
}
