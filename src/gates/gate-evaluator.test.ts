import { describe, expect, it } from 'vitest';
import { gateRelease, analysisSpec } from '../../test/gates/release-fixture.js';
import type { MetricCheck } from '../core/definition.js';
import type { AlertGate } from './alertmanager.js';
import { createGateEvaluator } from './gate-evaluator.js';
import type { MetricProvider, QueryOutcome } from './query-outcome.js';

/** Answers by the workload named in the query; records every query. */
function provider(values: Record<string, QueryOutcome>): MetricProvider & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    async query(promql) {
      queries.push(promql);
      const workload = /destination_workload="([^"]+)"/.exec(promql)?.[1] ?? '';
      const kind = promql.startsWith('sum(increase') ? 'count' : promql.startsWith('histogram_quantile') ? 'p99' : 'rate';
      return values[`${workload}/${kind}`] ?? { kind: 'empty' };
    },
  };
}
const v = (value: number): QueryOutcome => ({ kind: 'value', value, series: 1 });
const release = gateRelease({ canary: 'c', stable: 's' });

describe('createGateEvaluator', () => {
  it('queries the canary, and the stable workload only for relative thresholds', async () => {
    const metrics = provider({ 'c/count': v(100), 'c/rate': v(99.9), 's/rate': v(99.95), 'c/p99': v(120) });
    const checks: MetricCheck[] = [{ name: 'request-success-rate', min: 99, maxDegradation: 0.5 }, { name: 'request-duration-p99', max: 500 }];

    const result = await createGateEvaluator({ metrics, now: () => 7 }).evaluate(release, analysisSpec({ windowMs: 60_000 }), checks);

    expect(result).toMatchObject({ verdict: 'pass', at: 7 });
    expect(result.measurements.map((m) => [m.name, m.verdict, m.value])).toEqual([
      ['request-count', 'pass', 100],
      ['request-success-rate', 'pass', 99.9],
      ['request-duration-p99', 'pass', 120],
    ]);
    expect(metrics.queries.filter((q) => q.includes('destination_workload="s"'))).toHaveLength(1);
    expect(metrics.queries.every((q) => q.includes('[1m]'))).toBe(true);
  });

  it('skips the request count when minRequests is 0', async () => {
    const metrics = provider({ 'c/rate': v(100) });

    const result = await createGateEvaluator({ metrics }).evaluate(release, analysisSpec({ minRequests: 0 }), [{ name: 'request-success-rate', min: 99 }]);

    expect(result.measurements.map((m) => m.name)).toEqual(['request-success-rate']);
  });

  it.each([
    ['an unknown metric without a query', { name: 'made-up', max: 1 }, /unknown metric "made-up"/],
    ['a template typo', { name: 'x', query: 'up[{{ windw }}]', max: 1 }, /unknown template variable \{\{ windw \}\}/],
  ])('turns %s into an error measurement', async (_name, check, message) => {
    const result = await createGateEvaluator({ metrics: provider({}) }).evaluate(release, analysisSpec({ minRequests: 0 }), [check]);

    expect(result.verdict).toBe('error');
    expect(result.measurements[0]!.message).toMatch(message);
  });

  it('is an error, not a pass, without a metrics provider', async () => {
    const result = await createGateEvaluator({}).evaluate(release, analysisSpec(), [{ name: 'request-success-rate', min: 99 }]);

    expect(result.verdict).toBe('error');
    expect(result.measurements.every((m) => m.message?.includes('PROMETHEUS_URL'))).toBe(true);
  });

  it('adds alert sources; a firing alert fails the check even when Prometheus is down', async () => {
    const withAlerts = gateRelease({ canary: 'c', stable: 's', definition: { alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }] }] } });
    const alerts: AlertGate = { check: async () => [{ name: 'alert:Down', verdict: 'fail', value: 1, threshold: 'none' }] };
    const metrics = provider({ 'c/count': { kind: 'error', message: 'down' }, 'c/rate': { kind: 'error', message: 'down' } });

    const result = await createGateEvaluator({ metrics, alerts }).evaluate(withAlerts, analysisSpec(), [{ name: 'request-success-rate', min: 99 }]);

    expect(result.verdict).toBe('fail');
    expect(result.measurements.map((m) => m.verdict)).toEqual(['error', 'error', 'fail']);
  });

  it('turns a throwing alert source into an error measurement instead of throwing', async () => {
    const withAlerts = gateRelease({ canary: 'c', stable: 's', definition: { alerts: [{ kind: 'alertmanager', matchers: [{ name: 'a', op: '=', value: 'b' }] }] } });
    const alerts: AlertGate = { check: async () => Promise.reject(new Error('boom')) };

    const result = await createGateEvaluator({ alerts }).evaluate(withAlerts, analysisSpec({ minRequests: 0 }), []);

    expect(result).toMatchObject({ verdict: 'error', measurements: [{ name: 'alert:alertmanager', verdict: 'error' }] });
  });
});
