// One metric's verdict, Kayenta's NetflixACAJudge semantics: clean both samples, short-cut the cases
// a rank test cannot judge, then compare the location shift's interval with a tolerance band around
// zero and check the effect size.

import { effectSize, mean, noEffect } from './effect-size.js';
import { withGaussianNoise } from './jitter.js';
import type { MetricJudgeSpec } from './judge-spec.js';
import { AllTiedError, shiftInterval } from './mann-whitney.js';
import { withoutOutliers } from './outliers.js';

export type Classification = 'pass' | 'high' | 'low' | 'nodata' | 'error';

export interface SampleSummary {
  /** Values compared, after NaN handling and outlier removal. */
  count: number;
  /** Values dropped as NaN/±Inf or as outliers. */
  dropped: number;
  mean: number | null;
}

export interface MetricJudgement {
  classification: Classification;
  /** This verdict alone fails the analysis (a critical metric beyond its critical threshold, or without data). */
  critical: boolean;
  /** No data on a metric that must have data: a failure in its group's score. */
  missingRequired: boolean;
  /** Interval of experiment − control at the metric's confidence; null when no test ran. */
  interval: [number, number] | null;
  estimate: number | null;
  /** null when undefined (a mean ratio with a zero mean). */
  effectSize: number | null;
  /** One sentence for humans. */
  reason: string;
  control: SampleSummary;
  experiment: SampleSummary;
}

interface Cleaned {
  values: number[];
  dropped: number;
}

function clean(values: readonly number[], spec: MetricJudgeSpec): Cleaned {
  const finite = spec.nanStrategy === 'replace' ? values.map((v) => (Number.isFinite(v) ? v : 0)) : values.filter(Number.isFinite);
  const kept = spec.outliers === 'remove' ? withoutOutliers(finite) : finite;
  return { values: kept, dropped: values.length - kept.length };
}

function summary(sample: Cleaned): SampleSummary {
  return { count: sample.values.length, dropped: sample.dropped, mean: sample.values.length > 0 ? mean(sample.values) : null };
}

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.every((value, i) => value === y[i]);
}

function shown(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** Kayenta-compatible classification of `experiment` (canary) against `control` (baseline). */
export function classifyMetric(control: readonly number[], experiment: readonly number[], spec: MetricJudgeSpec): MetricJudgement {
  const ctl = clean(control, spec);
  const exp = clean(experiment, spec);
  const base = { control: summary(ctl), experiment: summary(exp), interval: null, estimate: null };
  const neutral = noEffect(spec.effectSize.measure);

  if (ctl.values.length === 0 || exp.values.length === 0) {
    const side = exp.values.length === 0 ? (ctl.values.length === 0 ? 'canary and baseline' : 'canary') : 'baseline';
    if (spec.nanStrategy === 'replace') {
      return { ...base, classification: 'pass', critical: false, missingRequired: false, effectSize: neutral, reason: `no data for the ${side}; NaN strategy replace passes it` };
    }
    const required = spec.mustHaveData && !spec.critical;
    return { ...base, classification: 'nodata', critical: spec.critical, missingRequired: required, effectSize: null, reason: `no data for the ${side}` };
  }
  if (sameValues(ctl.values, exp.values)) {
    return { ...base, classification: 'pass', critical: false, missingRequired: false, effectSize: neutral, reason: 'canary and baseline samples are identical' };
  }
  if (new Set([...ctl.values, ...exp.values]).size === 1) {
    return { ...base, classification: 'pass', critical: false, missingRequired: false, effectSize: neutral, reason: 'one value across both samples' };
  }

  // Two constant samples leave the rank test nothing but ties: jitter both, as Kayenta does.
  const constant = new Set(ctl.values).size === 1 && new Set(exp.values).size === 1;
  const x = constant ? withGaussianNoise(exp.values, 1e-5, 1) : exp.values;
  const y = constant ? withGaussianNoise(ctl.values, 1e-5, 2) : ctl.values;

  let shift;
  try {
    shift = shiftInterval(x, y, spec.confidence);
  } catch (error) {
    if (!(error instanceof AllTiedError)) throw error;
    return { ...base, classification: 'error', critical: spec.critical, missingRequired: false, effectSize: null, reason: error.message };
  }
  const effect = effectSize(spec.effectSize.measure, y, x);
  const [lower, upper] = shift.interval;
  const band = spec.tolerance * Math.abs(shift.estimate);
  const { allowedIncrease, allowedDecrease, criticalIncrease, criticalDecrease } = spec.effectSize;
  // An undefined effect size (a zero mean) does not stand in the way of a verdict.
  const atLeast = (limit: number): boolean => Number.isNaN(effect) || effect >= limit;
  const atMost = (limit: number): boolean => Number.isNaN(effect) || effect <= limit;

  const high = spec.direction !== 'decrease' && lower > band && atLeast(allowedIncrease);
  const low = !high && spec.direction !== 'increase' && upper < -band && atMost(allowedDecrease);
  const critical = spec.critical && ((high && atLeast(criticalIncrease)) || (low && atMost(criticalDecrease)));
  const classification: Classification = high ? 'high' : low ? 'low' : 'pass';
  const measured = `shift ${shown(shift.estimate)} [${shown(lower)}, ${shown(upper)}] at ${shown(spec.confidence * 100)}%, ${spec.effectSize.measure} ${shown(effect)}`;
  const verdict = high ? 'canary is higher than baseline' : low ? 'canary is lower than baseline' : 'no significant difference';
  return {
    ...base,
    classification,
    critical,
    missingRequired: false,
    interval: [lower, upper],
    estimate: shift.estimate,
    effectSize: finiteOrNull(effect),
    reason: `${verdict}${critical ? ' (critical)' : ''}: ${measured}`,
  };
}
