import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyMetric } from '../../../src/core/judge/classify-metric.js';
import { DEFAULT_METRIC_JUDGE, defaultEffectSize, type EffectSizeSpec, type JudgeDirection, type MetricJudgeSpec } from '../../../src/core/judge/judge-spec.js';

// Kayenta's ClassifierSuite, case by case (test/fixtures/kayenta/classifier.json names the source).
interface Case {
  name: string;
  control: string | number[];
  experiment: string | number[];
  direction: JudgeDirection;
  tolerance?: number;
  confidence?: number;
  critical?: boolean;
  nanStrategy?: 'remove' | 'replace';
  effectSize?: Partial<EffectSizeSpec>;
  expect: { classification: string; critical?: boolean; effectSize?: number | null };
}
const suite = JSON.parse(readFileSync(new URL('../../fixtures/kayenta/classifier.json', import.meta.url), 'utf8')) as {
  samples: Record<string, number[]>;
  cases: Case[];
};
const sample = (ref: string | number[]): number[] => (typeof ref === 'string' ? suite.samples[ref]! : ref);

function specOf(row: Case): MetricJudgeSpec {
  const measure = row.effectSize?.measure ?? 'meanRatio';
  return {
    ...DEFAULT_METRIC_JUDGE,
    direction: row.direction,
    tolerance: row.tolerance ?? 0.1,
    confidence: row.confidence ?? 0.95,
    critical: row.critical ?? false,
    nanStrategy: row.nanStrategy ?? 'remove',
    effectSize: { ...defaultEffectSize(measure), ...row.effectSize },
  };
}

describe('classifyMetric: Kayenta ClassifierSuite', () => {
  it.each(suite.cases.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const result = classifyMetric(sample(row.control), sample(row.experiment), specOf(row));

    expect(result.classification).toBe(row.expect.classification);
    if (row.expect.critical !== undefined) expect(result.critical).toBe(row.expect.critical);
    if (row.expect.effectSize !== undefined) expect(result.effectSize).toBe(row.expect.effectSize);
  });
});
