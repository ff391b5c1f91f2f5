import { describe, expect, it } from 'vitest';
import { BUILTIN_METRICS } from '../gates/builtin-metrics.js';
import { renderQuery } from '../gates/render-query.js';
import { FAILING, SimulatedTraffic, type TrafficShare } from './simulated-traffic.js';

const query = (name: string, workload: string, window = '10s', namespace = 'bookinfo'): string =>
  renderQuery(BUILTIN_METRICS[name]!.query, { namespace, 'canary.deployment': workload, window });

function traffic(share: TrafficShare = { stable: 80, canary: 20 }) {
  const current = { ...share };
  const source = new SimulatedTraffic({ namespace: 'bookinfo', stable: 'reviews-primary', canary: 'reviews-canary', requestsPerSecond: 50, share: () => current });
  return { source, current };
}

describe('SimulatedTraffic', () => {
  it.each([
    // workload, share, requests in 10 s at 50 rps
    ['reviews-canary', { stable: 80, canary: 20 }, 100],
    ['reviews-primary', { stable: 80, canary: 20 }, 400],
    ['reviews-canary', { stable: 100, canary: 0 }, 0],
    ['reviews-primary', { stable: 50, canary: 50 }, 250],
  ] as const)('counts requests to %s from the route weights %o', async (workload, share, expected) => {
    const { source } = traffic(share);

    const outcome = await source.query(query('request-count', workload));

    expect(outcome).toEqual({ kind: 'value', value: expected, series: 1 });
  });

  it('follows the weights as they change', async () => {
    const { source, current } = traffic({ stable: 100, canary: 0 });
    const before = await source.query(query('request-count', 'reviews-canary', '1m'));

    current.stable = 75;
    current.canary = 25;
    const after = await source.query(query('request-count', 'reviews-canary', '1m'));

    expect(before).toMatchObject({ value: 0 });
    expect(after).toMatchObject({ value: 750 });
  });

  it('answers a healthy canary with ~99.8 % success and ~120 ms p99', async () => {
    const { source } = traffic();

    const success = await source.query(query('request-success-rate', 'reviews-canary'));
    const p99 = await source.query(query('request-duration-p99', 'reviews-canary'));

    expect(success.kind === 'value' && success.value).toBeGreaterThan(99.6);
    expect(success.kind === 'value' && success.value).toBeLessThanOrEqual(100);
    expect(p99.kind === 'value' && p99.value).toBeGreaterThan(110);
    expect(p99.kind === 'value' && p99.value).toBeLessThan(130);
  });

  it('answers a failing canary with ~70 % success, and leaves stable healthy', async () => {
    const { source } = traffic();
    source.setCanaryHealth(FAILING);

    const canary = await source.query(query('request-success-rate', 'reviews-canary'));
    const stable = await source.query(query('request-success-rate', 'reviews-primary'));

    expect(canary.kind === 'value' && canary.value).toBeLessThan(71);
    expect(canary.kind === 'value' && canary.value).toBeGreaterThan(69);
    expect(stable.kind === 'value' && stable.value).toBeGreaterThan(99.6);
  });

  it.each([
    ['a canary with no traffic', query('request-success-rate', 'reviews-canary'), { stable: 100, canary: 0 }],
    ['an unknown workload', query('request-success-rate', 'ratings-v1'), { stable: 80, canary: 20 }],
  ] as const)('has no sample for %s', async (_what, promql, share) => {
    const { source } = traffic(share);

    const outcome = await source.query(promql);

    expect(outcome.kind).toBe('empty');
  });

  it.each([
    ['a custom query', 'sum(rate(app_errors_total{workload="reviews-canary"}[1m]))'],
    ['a changed built-in', query('request-count', 'reviews-canary').replace('increase', 'rate')],
    ['no window', 'up{destination_workload="reviews-canary"}'],
    ['another namespace', query('request-count', 'reviews-canary', '10s', 'shop')],
  ])('refuses %s with an error outcome', async (_what, promql) => {
    const { source } = traffic();

    const outcome = await source.query(promql);

    expect(outcome.kind).toBe('error');
  });
});

describe('SimulatedTraffic for the judge', () => {
  const range = { startMs: 0, endMs: 9_000, stepMs: 1_000 };
  const judged = () =>
    new SimulatedTraffic({
      namespace: 'bookinfo',
      stable: 'reviews-primary',
      canary: 'reviews-canary',
      baseline: 'reviews-baseline',
      requestsPerSecond: 50,
      share: () => ({ stable: 80, canary: 10, baseline: 10 }),
    });

  it('answers range queries with one figure per step, the baseline measured as the stable build', async () => {
    const source = judged();
    source.setCanaryHealth({ successRate: 0.998, p99Ms: 144 });

    const canary = await source.queryRange!(query('request-duration-p99', 'reviews-canary'), range);
    const baseline = await source.queryRange!(query('request-duration-p99', 'reviews-baseline'), range);

    expect(canary.kind === 'samples' && canary.values).toHaveLength(10);
    const mean = (o: typeof canary) => (o.kind === 'samples' ? o.values.reduce((a, b) => a + b, 0) / o.values.length : NaN);
    expect(mean(canary) / mean(baseline)).toBeGreaterThan(1.15);
    expect(mean(baseline)).toBeGreaterThan(110);
    expect(mean(baseline)).toBeLessThan(130);
  });

  it('has no samples for a workload without traffic', async () => {
    const source = new SimulatedTraffic({ namespace: 'bookinfo', stable: 'reviews-primary', canary: 'reviews-canary', baseline: 'reviews-baseline', share: () => ({ stable: 100, canary: 0, baseline: 0 }) });

    expect(await source.queryRange!(query('request-duration-p99', 'reviews-baseline'), range)).toEqual({ kind: 'empty' });
  });
});
