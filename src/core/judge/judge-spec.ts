// What a judged metric and the judged analysis are configured with (DESIGN §10), fully resolved:
// src/pipelines fills every default, so the judge never guesses.

import type { EffectSizeMeasure } from './effect-size.js';

export type { EffectSizeMeasure } from './effect-size.js';

/** Which change is a problem: `increase` (latency), `decrease` (success rate) or `either`. */
export type JudgeDirection = 'increase' | 'decrease' | 'either';

export interface EffectSizeSpec {
  measure: EffectSizeMeasure;
  /** A significant increase is `high` only when the effect size is at least this (meanRatio 1.0, CLES 0.5). */
  allowedIncrease: number;
  /** A significant decrease is `low` only when the effect size is at most this. */
  allowedDecrease: number;
  /** For a critical metric: a `high` at least this large fails the analysis at once. */
  criticalIncrease: number;
  /** For a critical metric: a `low` at most this large fails the analysis at once. */
  criticalDecrease: number;
}

export interface MetricJudgeSpec {
  direction: JudgeDirection;
  /** The interval must clear tolerance·|estimate| to count (Kayenta's default 0.25). */
  tolerance: number;
  /** Confidence level of the interval (default 0.98). */
  confidence: number;
  effectSize: EffectSizeSpec;
  /** A critical failure or no data fails the whole analysis, whatever the score. */
  critical: boolean;
  /** No data counts as a failure in the metric's group (instead of being left out). */
  mustHaveData: boolean;
  /** NaN (and ±Inf) samples: dropped, or counted as 0. */
  nanStrategy: 'remove' | 'replace';
  /** `remove`: drop IQR outliers (factor 3) from each side before comparing. */
  outliers: 'keep' | 'remove';
  /** Scoring group; `analysis.judge.groups` may weight it. */
  group: string;
}

export interface ScoreThresholds {
  /** A score at or above passes. */
  pass: number;
  /** A score at or above (and below `pass`) is marginal: inconclusive, never a pass. */
  marginal: number;
}

export interface AnalysisJudgeSpec {
  /** Resolution of the samples: one value per step of the range query. */
  stepMs: number;
  thresholds: ScoreThresholds;
  /** Group → weight in percent; groups without a weight share what is left. */
  groups: Record<string, number>;
}

export const DEFAULT_CONFIDENCE = 0.98;
export const DEFAULT_TOLERANCE = 0.25;
export const DEFAULT_GROUP = 'default';
export const DEFAULT_THRESHOLDS: ScoreThresholds = { pass: 95, marginal: 75 };
export const DEFAULT_JUDGE_STEP_MS = 10_000;

/** The effect-size thresholds that change nothing: a ratio of 1, a CLES of one half. */
export function defaultEffectSize(measure: EffectSizeMeasure): EffectSizeSpec {
  const neutral = measure === 'cles' ? 0.5 : 1;
  return { measure, allowedIncrease: neutral, allowedDecrease: neutral, criticalIncrease: neutral, criticalDecrease: neutral };
}

export const DEFAULT_METRIC_JUDGE: MetricJudgeSpec = {
  direction: 'either',
  tolerance: DEFAULT_TOLERANCE,
  confidence: DEFAULT_CONFIDENCE,
  effectSize: defaultEffectSize('meanRatio'),
  critical: false,
  mustHaveData: false,
  nanStrategy: 'remove',
  outliers: 'keep',
  group: DEFAULT_GROUP,
};

export const DEFAULT_ANALYSIS_JUDGE: AnalysisJudgeSpec = { stepMs: DEFAULT_JUDGE_STEP_MS, thresholds: DEFAULT_THRESHOLDS, groups: {} };
