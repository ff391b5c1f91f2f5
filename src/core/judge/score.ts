// Scoring the judged metrics, Kayenta's weighted-sum scorer: per group, passes ÷ (passes + highs +
// lows + required-but-missing) × 100; groups weighted, unweighted groups sharing what the weights
// leave; a group with nothing to count scores 100 in the sum (and shows 0). A critical failure, or
// half the metrics without data, scores 0. The summary is rounded to two decimals.

import type { Classification } from './classify-metric.js';
import type { ScoreThresholds } from './judge-spec.js';

export interface ScoredMetric {
  name: string;
  group: string;
  classification: Classification;
  critical: boolean;
  missingRequired: boolean;
}

export interface GroupScore {
  name: string;
  /** 0..100; 0 for a group with nothing to count (see noData). */
  score: number;
  /** Nothing in the group could be counted; the summary counts it as 100. */
  noData: boolean;
  /** Its weight in the summary, in percent. */
  weight: number;
}

export type ScoreClassification = 'pass' | 'marginal' | 'fail';

export interface Score {
  /** 0..100, two decimals. */
  score: number;
  classification: ScoreClassification;
  /** Why the score was forced to 0, when it was. */
  reason: string | null;
  groups: GroupScore[];
}

/** Half or more of the metrics without data score 0 (Kayenta's NODATA_THRESHOLD). */
const NODATA_SHARE = 0.5;

function groupScore(name: string, metrics: readonly ScoredMetric[]): Omit<GroupScore, 'weight'> {
  const count = (wanted: Classification) => metrics.filter((m) => m.classification === wanted).length;
  const passes = count('pass');
  const total = passes + count('high') + count('low') + metrics.filter((m) => m.missingRequired).length;
  return total === 0 ? { name, score: 0, noData: true } : { name, score: (passes / total) * 100, noData: false };
}

function weights(groups: readonly string[], configured: Readonly<Record<string, number>>): Map<string, number> {
  const given = Object.values(configured).reduce((sum, weight) => sum + weight, 0);
  const unweighted = groups.filter((group) => configured[group] === undefined);
  const share = unweighted.length > 0 ? (100 - given) / unweighted.length : 0;
  return new Map(groups.map((group) => [group, configured[group] ?? share]));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function classifyScore(score: number, thresholds: ScoreThresholds): ScoreClassification {
  if (score >= thresholds.pass) return 'pass';
  if (score >= thresholds.marginal) return 'marginal';
  return 'fail';
}

export function scoreMetrics(metrics: readonly ScoredMetric[], groupWeights: Readonly<Record<string, number>>, thresholds: ScoreThresholds): Score {
  const names = [...new Set(metrics.map((m) => m.group))];
  const weightOf = weights(names, groupWeights);
  const groups = names.map((name) => ({ ...groupScore(name, metrics.filter((m) => m.group === name)), weight: weightOf.get(name) ?? 0 }));

  const critical = metrics.find((m) => m.critical && m.classification !== 'pass');
  if (critical) {
    return { score: 0, classification: 'fail', reason: `critical metric ${critical.name} is ${critical.classification}`, groups };
  }
  const noData = metrics.filter((m) => m.classification === 'nodata').length;
  if (metrics.length > 0 && noData / metrics.length >= NODATA_SHARE) {
    return { score: 0, classification: 'fail', reason: `${noData} of ${metrics.length} metrics have no data (half or more)`, groups };
  }
  const sum = groups.reduce((total, group) => total + (group.noData ? 100 : group.score) * (group.weight / 100), 0);
  const score = round2(sum);
  return { score, classification: classifyScore(score, thresholds), reason: null, groups };
}
