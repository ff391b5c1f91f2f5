// Outliers by Tukey's fences as Kayenta's judge sets them (IQR detector, factor 3, reduced
// sensitivity): a value is an outlier below min(P1, Q1 − k·IQR) or above max(P99, Q3 + k·IQR),
// percentiles by R's type 7. Widening the fences to P1/P99 keeps a tight sample (IQR 0) from losing
// every value that differs at all.

import { percentileOfSorted } from './percentile.js';

export interface FenceOptions {
  /** k in Q1 − k·IQR and Q3 + k·IQR; Kayenta's judge uses 3. */
  factor: number;
  /** Widen the fences to the 1st and 99th percentiles. */
  reduceSensitivity: boolean;
}

export const JUDGE_FENCES: FenceOptions = { factor: 3, reduceSensitivity: true };

/** Whether each value is an outlier (same order as `values`). */
export function outlierMask(values: readonly number[], options: FenceOptions): boolean[] {
  if (values.length === 0) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = percentileOfSorted(sorted, 25);
  const q3 = percentileOfSorted(sorted, 75);
  const iqr = q3 - q1;
  let lower = q1 - options.factor * iqr;
  let upper = q3 + options.factor * iqr;
  if (options.reduceSensitivity) {
    lower = Math.min(lower, percentileOfSorted(sorted, 1));
    upper = Math.max(upper, percentileOfSorted(sorted, 99));
  }
  return values.map((value) => value < lower || value > upper);
}

export function withoutOutliers(values: readonly number[], options: FenceOptions = JUDGE_FENCES): number[] {
  const mask = outlierMask(values, options);
  return values.filter((_, index) => !mask[index]);
}
