// A real judge measurement for report tests: measureJudge over fixed samples (a fake range-query
// provider), so notes, chat and the API render exactly what an analysis would record.

import type { MetricCheck } from '../../src/core/definition.js';
import type { Measurement } from '../../src/core/gate.js';
import { DEFAULT_METRIC_JUDGE } from '../../src/core/judge/judge-spec.js';
import type { Release } from '../../src/core/release.js';
import { measureJudge } from '../../src/gates/judge-gate.js';
import type { MetricProvider, RangeOutcome } from '../../src/gates/query-outcome.js';
import { queryVariables } from '../../src/gates/render-query.js';

/** 30 values around `centre`, spread by a fixed zig-zag of ±5 %. */
export function series(centre: number, count = 30): number[] {
  return Array.from({ length: count }, (_, i) => Number((centre * (1 + (((i * 7) % 11) - 5) / 100)).toFixed(3)));
}

export const JUDGED_METRICS: MetricCheck[] = [
  { name: 'request-success-rate', min: 99, judge: { ...DEFAULT_METRIC_JUDGE, direction: 'decrease', critical: true, group: 'errors' } },
  { name: 'request-duration-p99', max: 500, judge: { ...DEFAULT_METRIC_JUDGE, direction: 'increase', group: 'latency' } },
];

/** Samples by workload and metric: `${workload}/${kind}` where kind is p99 or rate. */
export function fixedProvider(samples: Record<string, number[]>): MetricProvider {
  return {
    query: async () => ({ kind: 'empty' }),
    queryRange: async (promql): Promise<RangeOutcome> => {
      const workload = /destination_workload="([^"]+)"/.exec(promql)?.[1] ?? '';
      const kind = promql.startsWith('histogram_quantile') ? 'p99' : 'rate';
      const values = samples[`${workload}/${kind}`];
      return values ? { kind: 'samples', values } : { kind: 'empty' };
    },
  };
}

/** The judge's measurement of `release` with the canary's p99 at `canaryP99` against a baseline at 100 ms. */
export async function judgeMeasurement(release: Release, canaryP99: number, at: number): Promise<Measurement> {
  const { canary, baseline, stable } = release.definition.target;
  const against = (baseline ?? stable).deployment;
  const provider = fixedProvider({
    [`${canary.deployment}/p99`]: series(canaryP99),
    [`${against}/p99`]: series(100),
    [`${canary.deployment}/rate`]: series(99.9).map((v) => Math.min(100, v)),
    [`${against}/rate`]: series(99.9).map((v) => Math.min(100, v)),
  });
  const analysis = { ...release.definition.analysis, metrics: JUDGED_METRICS };
  return measureJudge({ release, analysis, metrics: JUDGED_METRICS, variables: queryVariables(release, analysis.windowMs), provider, now: at });
}
