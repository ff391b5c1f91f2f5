// The two-sided confidence interval of the location shift (experiment − control) and its
// Hodges-Lehmann estimate, as R's wilcox.test computes them with the normal approximation
// (exact = FALSE, correct = TRUE): the shift d where the standardised rank-sum statistic of
// (x − d, y) crosses the normal quantiles, found with Brent's method at tolerance 1e-4. Like
// Kayenta's judge, the continuity correction applies to the estimate too.

import { normalQuantile } from './normal-quantile.js';
import { shiftedRankSum } from './rank-sum.js';
import { zeroin } from './zeroin.js';

/** R's uniroot tolerance in wilcox.test; another tolerance moves the figures. */
export const ROOT_TOLERANCE = 1e-4;

export interface ShiftInterval {
  /** [lower, upper] bounds of the shift experiment − control at the confidence level. */
  interval: [number, number];
  /** Hodges-Lehmann estimate of the shift. */
  estimate: number;
}

export class AllTiedError extends Error {
  constructor() {
    super('cannot compute a confidence interval when all observations are tied');
    this.name = 'AllTiedError';
  }
}

const ascending = (a: number, b: number): number => a - b;

/**
 * The standardised statistic minus `quantile` at shift `d` (R's `wdiff`). Decreasing in d, a step
 * function between the points where a shifted x meets a y.
 */
function standardisedDifference(xs: readonly number[], ys: readonly number[], d: number, quantile: number): number {
  const nx = xs.length;
  const ny = ys.length;
  const { rankSum, tieTerm } = shiftedRankSum(xs, ys, d);
  const dz = rankSum - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
  const correction = Math.sign(dz) * 0.5;
  const sigma = Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - tieTerm / ((nx + ny) * (nx + ny - 1))));
  if (sigma === 0) throw new AllTiedError();
  return (dz - correction) / sigma - quantile;
}

/**
 * Interval and estimate of experiment − control at `confidence` (0 < confidence < 1). Both samples
 * must be non-empty and finite; throws AllTiedError when every value is the same.
 */
export function shiftInterval(experiment: readonly number[], control: readonly number[], confidence: number): ShiftInterval {
  const xs = [...experiment].sort(ascending);
  const ys = [...control].sort(ascending);
  const muMin = (xs[0] as number) - (ys[ys.length - 1] as number);
  const muMax = (xs[xs.length - 1] as number) - (ys[0] as number);
  const f = (quantile: number) => (d: number) => standardisedDifference(xs, ys, d, quantile);

  const root = (quantile: number): number => {
    const fLower = f(quantile)(muMin);
    if (fLower <= 0) return muMin;
    const fUpper = f(quantile)(muMax);
    if (fUpper >= 0) return muMax;
    return zeroin(f(quantile), muMin, muMax, fLower, fUpper, { tolerance: ROOT_TOLERANCE });
  };

  const alpha = 1 - confidence;
  const z = normalQuantile(alpha / 2);
  const interval: [number, number] = [root(-z), root(z)];
  const estimate = zeroin(f(0), muMin, muMax, f(0)(muMin), f(0)(muMax), { tolerance: ROOT_TOLERANCE });
  return { interval, estimate };
}
