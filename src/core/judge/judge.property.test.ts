import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMetric, type MetricJudgement } from './classify-metric.js';
import { DEFAULT_METRIC_JUDGE, defaultEffectSize, type MetricJudgeSpec } from './judge-spec.js';

// Properties any location-shift judge must have. Samples are whole numbers so that shifting them
// is exact in floating point (a shift that rounds would change which values tie).
const sample = fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 4, maxLength: 40 });
/** A baseline and a canary moved by up to ±40, so that every verdict comes up. */
const pair = fc.tuple(sample, sample, fc.integer({ min: -40, max: 40 })).map(([control, experiment, offset]) => ({
  control,
  experiment: experiment.map((v) => Math.max(1, v + offset)),
}));
const constant = (values: number[]): boolean => new Set(values).size === 1;
const specs: [string, MetricJudgeSpec][] = [
  ['meanRatio', DEFAULT_METRIC_JUDGE],
  ['cles', { ...DEFAULT_METRIC_JUDGE, effectSize: defaultEffectSize('cles') }],
];
const FLIPPED = { high: 'low', low: 'high', pass: 'pass', nodata: 'nodata', error: 'error' } as const;

/** How far the interval is from the edges of the tolerance band (a classification boundary). */
function margin(result: MetricJudgement, tolerance: number): number {
  if (!result.interval || result.estimate === null) return Number.POSITIVE_INFINITY;
  const band = tolerance * Math.abs(result.estimate);
  return Math.min(Math.abs(result.interval[0] - band), Math.abs(result.interval[1] + band));
}

describe('judge properties', () => {
  it.each(specs)('swapping canary and baseline flips high and low (%s)', (_measure, spec) => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(pair, ({ control, experiment }) => {
        const forward = classifyMetric(control, experiment, spec);
        const backward = classifyMetric(experiment, control, spec);
        // Brent stops anywhere within 1e-4 of a root: only a verdict that close to the band's edge may differ.
        fc.pre(margin(forward, spec.tolerance) > 1e-3 && margin(backward, spec.tolerance) > 1e-3);
        // Where the corrected statistic is zero over a whole interval of shifts (its continuity
        // correction is sign(dz) · 0.5, and sign(0) is 0), R's and Kayenta's estimate is wherever the
        // root finder lands in it, so it is not antisymmetric and nor is the tolerance band built on it:
        // control [5,1,5,18,26,5,5,26,50,5,18,18] against [1,1,1,1] estimates −16.0 one way and 12.25 the
        // other (found by this property in CI). The property holds where the estimate is unique.
        if (forward.estimate !== null && backward.estimate !== null) fc.pre(Math.abs(forward.estimate + backward.estimate) < 1e-3);

        seen.add(forward.classification);
        expect(backward.classification).toBe(FLIPPED[forward.classification]);
        if (forward.interval && backward.interval) {
          expect(backward.interval[0]).toBeCloseTo(-forward.interval[1], 3);
          expect(backward.interval[1]).toBeCloseTo(-forward.interval[0], 3);
        }
      }),
      { numRuns: 300, examples: [[{ control: [5, 1, 5, 18, 26, 5, 5, 26, 50, 5, 18, 18], experiment: [1, 1, 1, 1] }]] },
    );
    expect([...seen].sort()).toEqual(['high', 'low', 'pass']);
  });

  it.each(specs)('shifting both samples by a constant changes nothing (%s)', (_measure, spec) => {
    fc.assert(
      fc.property(pair, fc.integer({ min: 1, max: 10_000 }), ({ control, experiment }, shift) => {
        // Two constant samples get noise proportional to their value (Kayenta's jitter): not shift-free by design.
        fc.pre(!(constant(control) && constant(experiment)));
        const before = classifyMetric(control, experiment, spec);
        const after = classifyMetric(control.map((v) => v + shift), experiment.map((v) => v + shift), spec);

        expect(after.classification).toBe(before.classification);
        expect(after.interval).toEqual(before.interval);
        expect(after.estimate).toBe(before.estimate);
      }),
      { numRuns: 300 },
    );
  });
});
