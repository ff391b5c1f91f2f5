import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shiftInterval } from '../../../src/core/judge/mann-whitney.js';
import { normalQuantile } from '../../../src/core/judge/normal-quantile.js';
import { zeroin } from '../../../src/core/judge/zeroin.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/kayenta/${name}`, import.meta.url), 'utf8')) as T;

interface RCase {
  name: string;
  confidence: number;
  control: number[];
  experiment: number[];
  interval: [number, number];
  estimate: number;
}

// Kayenta's tolerances: 1e-6 on the interval, 1e-4 on the estimate (issue 15).
const INTERVAL_TOLERANCE = 1e-6;
const ESTIMATE_TOLERANCE = 1e-4;

describe('shiftInterval: Kayenta MannWhitneySuite (R wilcox.test figures)', () => {
  it.each(fixture<{ cases: RCase[] }>('mann-whitney-r.json').cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = shiftInterval(c.experiment, c.control, c.confidence);

    expect(Math.abs(result.interval[0] - c.interval[0])).toBeLessThan(INTERVAL_TOLERANCE);
    expect(Math.abs(result.interval[1] - c.interval[1])).toBeLessThan(INTERVAL_TOLERANCE);
    expect(Math.abs(result.estimate - c.estimate)).toBeLessThan(ESTIMATE_TOLERANCE);
  });

  it('reproduces Kayenta\'s own figures on its "test problem case" (850 + 850 values a millionth apart)', () => {
    const c = fixture<RCase>('mann-whitney-problem-case.json');

    const result = shiftInterval(c.experiment, c.control, c.confidence);

    expect(c.experiment).toHaveLength(850);
    expect(Math.abs(result.interval[0] - c.interval[0])).toBeLessThan(INTERVAL_TOLERANCE);
    expect(Math.abs(result.interval[1] - c.interval[1])).toBeLessThan(INTERVAL_TOLERANCE);
    expect(Math.abs(result.estimate - c.estimate)).toBeLessThan(INTERVAL_TOLERANCE);
  });

  it('reproduces Kayenta\'s "returns expected values" (1..4 against 10..40 at 95 %)', () => {
    // MannWhitneySuite: interval [6, 39] (the range's ends) and estimate 22.5, within 1e-6.
    const result = shiftInterval([10, 20, 30, 40], [1, 2, 3, 4], 0.95);

    expect(result.interval[0]).toBeCloseTo(6, 6);
    expect(result.interval[1]).toBeCloseTo(39, 6);
    expect(result.estimate).toBeCloseTo(22.5, 6);
  });

  it('ties out with R on the asymptotic case of Kayenta WilcoxTests', () => {
    const c = fixture<RCase>('wilcox-asymptotic.json');

    const result = shiftInterval(c.experiment, c.control, c.confidence);

    expect(Math.abs(result.interval[0] - c.interval[0])).toBeLessThan(1e-4);
    expect(Math.abs(result.interval[1] - c.interval[1])).toBeLessThan(1e-4);
  });

  it('returns the ends of the range in extreme cases, as R does', () => {
    // wilcox.test(1, 2:60, conf.int = TRUE): the interval reaches the range's ends.
    const result = shiftInterval([1], Array.from({ length: 59 }, (_, i) => i + 2), 0.95);

    expect(result.interval[0]).toBe(1 - 60);
    expect(result.interval[1]).toBe(1 - 2);
  });

  it('refuses samples where every value is tied', () => {
    expect(() => shiftInterval([1, 1], [1, 1, 1], 0.95)).toThrow('all observations are tied');
  });
});

describe('normalQuantile (AS 241, as R qnorm)', () => {
  it.each([
    // Kayenta MannWhitneySuite "tie out intermediate variables": R's zq.lower.
    [0.975, 1.9599639845400536],
    [0.025, -1.9599639845400536],
    [0.01, -2.3263478740408408],
    [0.5, 0],
    [1e-10, -6.361340902404056],
  ])('qnorm(%d) = %d', (p, want) => {
    expect(normalQuantile(p)).toBeCloseTo(want, 14);
  });

  it('is ±Infinity at the ends and NaN outside', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe('zeroin', () => {
  it('finds a root within the absolute tolerance and counts evaluations', () => {
    let calls = 0;
    const f = (x: number): number => {
      calls += 1;
      return x * x - 2;
    };

    const root = zeroin(f, 0, 2, -2, 2, { tolerance: 1e-4 });

    expect(Math.abs(root - Math.SQRT2)).toBeLessThan(1e-4);
    expect(calls).toBeLessThan(12);
  });

  it('returns an end where the function is already 0', () => {
    expect(zeroin(() => 1, 3, 4, 0, 1, { tolerance: 1e-4 })).toBe(3);
    expect(zeroin(() => 1, 3, 4, -1, 0, { tolerance: 1e-4 })).toBe(4);
  });
});
