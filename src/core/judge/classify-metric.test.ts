import { describe, expect, it } from 'vitest';
import { classifyMetric } from './classify-metric.js';
import { DEFAULT_METRIC_JUDGE } from './judge-spec.js';

const passControl = [11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657, 9.7944630265656727, 9.6037918603687302];
const highExperiment = [20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562, 19.510058772176841, 19.392005525270303];

describe('classifyMetric', () => {
  const spec = { ...DEFAULT_METRIC_JUDGE };

  it('drops NaN and ±Inf with nanStrategy remove, and counts them as 0 with replace', () => {
    const control = [1, 2, Number.NaN, 3, Number.POSITIVE_INFINITY];

    const removed = classifyMetric(control, [1, 2, 3], spec);
    const replaced = classifyMetric(control, [1, 2, 3], { ...spec, nanStrategy: 'replace' });

    expect(removed).toMatchObject({ classification: 'pass', control: { count: 3, dropped: 2 } });
    expect(replaced.control).toMatchObject({ count: 5, dropped: 0, mean: 6 / 5 });
  });

  it('a missing side of a metric that must have data counts as missing, unless it is critical', () => {
    expect(classifyMetric([1, 2], [], { ...spec, mustHaveData: true })).toMatchObject({ classification: 'nodata', missingRequired: true, critical: false });
    expect(classifyMetric([1, 2], [], { ...spec, mustHaveData: true, critical: true })).toMatchObject({ classification: 'nodata', missingRequired: false, critical: true });
    expect(classifyMetric([], [], spec).reason).toBe('no data for the canary and baseline');
  });

  it('removes IQR outliers only when asked', () => {
    const control = [10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 11];
    const spiky = [10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 10, 900];

    const kept = classifyMetric(control, spiky, spec);
    const removed = classifyMetric(control, spiky, { ...spec, outliers: 'remove' });

    expect(kept.experiment).toMatchObject({ count: 12, dropped: 0 });
    expect(removed.experiment).toMatchObject({ count: 11, dropped: 1 });
    expect(removed.classification).toBe('pass');
  });

  it('jitters two constant samples deterministically', () => {
    const first = classifyMetric([1, 1, 1, 1, 1], [10, 10, 10, 10, 10], spec);
    const again = classifyMetric([1, 1, 1, 1, 1], [10, 10, 10, 10, 10], spec);

    expect(first.classification).toBe('high');
    expect(again).toEqual(first);
    expect(first.effectSize).toBeCloseTo(10, 3);
  });

  it('says what it measured', () => {
    const result = classifyMetric(passControl, highExperiment, spec);

    expect(result.reason).toMatch(/^canary is higher than baseline: shift \d+(\.\d+)? \[\d+(\.\d+)?, \d+(\.\d+)?\] at 98%, meanRatio \d+(\.\d+)?$/);
    expect(result.interval![0]).toBeLessThan(result.estimate!);
    expect(result.interval![1]).toBeGreaterThan(result.estimate!);
  });
});
