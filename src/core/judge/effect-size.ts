// Effect sizes of experiment against control, as Kayenta's judge measures them.

export type EffectSizeMeasure = 'meanRatio' | 'cles';

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** mean(experiment) / mean(control); NaN when either mean is 0 (no ratio to speak of). */
export function meanRatio(control: readonly number[], experiment: readonly number[]): number {
  const controlMean = mean(control);
  const experimentMean = mean(experiment);
  if (controlMean === 0 || experimentMean === 0) return Number.NaN;
  return experimentMean / controlMean;
}

/**
 * Common-language effect size: the probability that a random experiment value exceeds a random
 * control value, ties counting half (0.5: no effect).
 */
export function cles(control: readonly number[], experiment: readonly number[]): number {
  if (control.length === 0 || experiment.length === 0) return Number.NaN;
  const ys = [...control].sort((a, b) => a - b);
  const xs = [...experiment].sort((a, b) => a - b);
  let below = 0;
  let notAbove = 0;
  let wins = 0;
  for (const x of xs) {
    // ys[0 … below) < x, ys[0 … notAbove) <= x: both only move forward as x grows.
    while (below < ys.length && (ys[below] as number) < x) below += 1;
    while (notAbove < ys.length && (ys[notAbove] as number) <= x) notAbove += 1;
    wins += below + (notAbove - below) / 2;
  }
  return wins / (xs.length * ys.length);
}

export function effectSize(measure: EffectSizeMeasure, control: readonly number[], experiment: readonly number[]): number {
  return measure === 'cles' ? cles(control, experiment) : meanRatio(control, experiment);
}

/** The effect size of two samples that do not differ: a ratio of 1, a CLES of one half. */
export function noEffect(measure: EffectSizeMeasure): number {
  return measure === 'cles' ? 0.5 : 1;
}
