// The judged analysis: every judged metric classified, then scored. Pure: samples in, report out.

import { classifyMetric, type MetricJudgement } from './classify-metric.js';
import type { AnalysisJudgeSpec, JudgeDirection, MetricJudgeSpec, ScoreThresholds } from './judge-spec.js';
import type { EffectSizeMeasure } from './effect-size.js';
import { scoreMetrics, type GroupScore, type ScoreClassification } from './score.js';

export interface MetricSamples {
  name: string;
  spec: MetricJudgeSpec;
  /** Baseline values (one per step). */
  control: readonly number[];
  /** Canary values (one per step). */
  experiment: readonly number[];
}

export interface JudgedMetric extends MetricJudgement {
  name: string;
  group: string;
  direction: JudgeDirection;
  measure: EffectSizeMeasure;
  /** Confidence level of the interval. */
  confidence: number;
}

export interface JudgeReport {
  /** Summary score 0..100 (two decimals). */
  score: number;
  /** pass, marginal (inconclusive) or fail against the thresholds. */
  classification: ScoreClassification;
  /** Why the score was forced to 0 (a critical metric, too many without data), else null. */
  reason: string | null;
  thresholds: ScoreThresholds;
  groups: GroupScore[];
  metrics: JudgedMetric[];
}

export function judgeMetric(samples: MetricSamples): JudgedMetric {
  const judgement = classifyMetric(samples.control, samples.experiment, samples.spec);
  const { spec } = samples;
  return { name: samples.name, group: spec.group, direction: spec.direction, measure: spec.effectSize.measure, confidence: spec.confidence, ...judgement };
}

/** Classify each metric and score them together. */
export function judgeAnalysis(metrics: readonly MetricSamples[], analysis: Pick<AnalysisJudgeSpec, 'thresholds' | 'groups'>): JudgeReport {
  const judged = metrics.map(judgeMetric);
  return scoreJudged(judged, analysis);
}

/** Score metrics already judged (some may have been judged `error` by the caller). */
export function scoreJudged(judged: readonly JudgedMetric[], analysis: Pick<AnalysisJudgeSpec, 'thresholds' | 'groups'>): JudgeReport {
  const score = scoreMetrics(judged, analysis.groups, analysis.thresholds);
  return { ...score, thresholds: analysis.thresholds, metrics: [...judged] };
}
