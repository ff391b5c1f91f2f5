import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cles, meanRatio } from '../../../src/core/judge/effect-size.js';
import { outlierMask, withoutOutliers } from '../../../src/core/judge/outliers.js';
import { percentile } from '../../../src/core/judge/percentile.js';

// Kayenta's StatisticSuite and DetectorSuite (test/fixtures/kayenta/statistics.json names the source).
const suite = JSON.parse(readFileSync(new URL('../../fixtures/kayenta/statistics.json', import.meta.url), 'utf8')) as {
  percentiles: { name: string; data: number[]; checks: [number, number, number][] }[];
  meanRatio: { name: string; experiment: number[]; control: number[]; expected: number | null }[];
  cles: { name: string; experiment: number[]; control: number[]; expected: number; tolerance: number }[];
  iqr: { name: string; factor: number; data: number[]; outliers: boolean[] }[];
};

describe('percentile (R type 7): Kayenta StatisticSuite', () => {
  it.each(suite.percentiles.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    for (const [p, expected, tolerance] of c.checks) expect(Math.abs(percentile(c.data, p) - expected)).toBeLessThanOrEqual(tolerance + 1e-12);
  });

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('effect sizes: Kayenta StatisticSuite', () => {
  it.each(suite.meanRatio.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ratio = meanRatio(c.control, c.experiment);

    if (c.expected === null) expect(ratio).toBeNaN();
    else expect(ratio).toBe(c.expected);
  });

  it.each(suite.cles.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(Math.abs(cles(c.control, c.experiment) - c.expected)).toBeLessThanOrEqual(c.tolerance + 1e-12);
  });

  it('a zero canary mean leaves the ratio undefined too', () => {
    expect(meanRatio([54.9, 54.5], [0, 0])).toBeNaN();
  });
});

describe('IQR outliers: Kayenta DetectorSuite', () => {
  it.each(suite.iqr.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(outlierMask(c.data, { factor: c.factor, reduceSensitivity: false })).toEqual(c.outliers);
  });

  it('widens the fences to P1/P99 when reducing sensitivity', () => {
    const data = [...Array.from({ length: 200 }, (_, i) => 10 + (i % 5)), 16];

    // Q1 11, Q3 13: fences at 10.8 and 13.2 flag every 10 and 14; P1 10 and P99 14 keep them.
    expect(outlierMask(data, { factor: 0.1, reduceSensitivity: false }).filter(Boolean)).toHaveLength(81);
    expect(outlierMask(data, { factor: 0.1, reduceSensitivity: true }).filter(Boolean)).toHaveLength(1);
    expect(withoutOutliers([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 900])).not.toContain(900);
  });
});
