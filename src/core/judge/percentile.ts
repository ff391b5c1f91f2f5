/**
 * The p-th percentile (0 ≤ p ≤ 100) of `values` by linear interpolation between order statistics:
 * R's default quantile type 7 (h = (n − 1)·p/100). NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

/** As `percentile`, for values already sorted ascending. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = ((sorted.length - 1) * Math.min(100, Math.max(0, p))) / 100;
  const below = Math.floor(h);
  const low = sorted[below] as number;
  if (below + 1 >= sorted.length) return low;
  return low + (h - below) * ((sorted[below + 1] as number) - low);
}
