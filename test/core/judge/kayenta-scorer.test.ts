import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Classification } from '../../../src/core/judge/classify-metric.js';
import { classifyScore, scoreMetrics, type ScoredMetric } from '../../../src/core/judge/score.js';

// Kayenta's ScorerSuite (test/fixtures/kayenta/scorer.json names the source).
const suite = JSON.parse(readFileSync(new URL('../../fixtures/kayenta/scorer.json', import.meta.url), 'utf8')) as {
  cases: { name: string; weights: Record<string, number>; metrics: [string, Classification, string, boolean?][]; summary: number; groupScores?: number[] }[];
};
const THRESHOLDS = { pass: 95, marginal: 75 };
const metric = ([name, classification, group, critical]: [string, Classification, string, boolean?]): ScoredMetric => ({
  name,
  classification,
  group,
  critical: critical ?? false,
  missingRequired: false,
});

describe('scoreMetrics: Kayenta ScorerSuite', () => {
  it.each(suite.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = scoreMetrics(c.metrics.map(metric), c.weights, THRESHOLDS);

    expect(result.score).toBe(c.summary);
    if (c.groupScores) expect(result.groups.map((g) => g.score).sort((a, b) => a - b)).toEqual(c.groupScores);
  });
});

describe('scoreMetrics', () => {
  it('counts a required metric without data as a failure in its group', () => {
    const metrics: ScoredMetric[] = [
      { name: 'a', classification: 'pass', group: 'g', critical: false, missingRequired: false },
      { name: 'b', classification: 'pass', group: 'g', critical: false, missingRequired: false },
      { name: 'c', classification: 'nodata', group: 'g', critical: false, missingRequired: true },
    ];

    expect(scoreMetrics(metrics, {}, THRESHOLDS).score).toBe(66.67);
  });

  it('lets unweighted groups share what the weights leave', () => {
    const metrics = [metric(['e', 'pass', 'errors']), metric(['l', 'high', 'latency']), metric(['s', 'pass', 'saturation'])];

    const result = scoreMetrics(metrics, { errors: 60 }, THRESHOLDS);

    expect(result.groups.map((g) => [g.name, g.weight])).toEqual([['errors', 60], ['latency', 20], ['saturation', 20]]);
    expect(result.score).toBe(80);
    expect(result.classification).toBe('marginal');
  });

  it('says why a score was forced to 0', () => {
    expect(scoreMetrics([metric(['x', 'high', 'g', true])], {}, THRESHOLDS).reason).toBe('critical metric x is high');
    expect(scoreMetrics([metric(['x', 'nodata', 'g']), metric(['y', 'pass', 'g'])], {}, THRESHOLDS).reason).toBe('1 of 2 metrics have no data (half or more)');
  });

  it.each([
    [95, 'pass'],
    [94.99, 'marginal'],
    [75, 'marginal'],
    [74.99, 'fail'],
  ] as const)('a score of %d is %s against 95/75', (score, expected) => {
    expect(classifyScore(score, THRESHOLDS)).toBe(expected);
  });
});
