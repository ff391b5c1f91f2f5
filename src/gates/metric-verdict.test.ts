import { describe, expect, it } from 'vitest';
import type { MetricCheck } from '../core/definition.js';
import type { Measurement } from '../core/gate.js';
import { gateOnTraffic, judgeMetric, judgeRequestCount, type MetricReading } from './metric-verdict.js';
import type { QueryOutcome } from './query-outcome.js';

const v = (value: number): QueryOutcome => ({ kind: 'value', value, series: 1 });
const empty: QueryOutcome = { kind: 'empty' };
const down: QueryOutcome = { kind: 'error', message: 'Prometheus unreachable: connect ECONNREFUSED' };

const rate = (check: Partial<MetricCheck>, canary: QueryOutcome, stable?: QueryOutcome): MetricReading => ({
  check: { name: 'request-success-rate', ...check },
  unit: '%',
  better: 'higher',
  query: 'q',
  canary,
  ...(stable ? { stable } : {}),
});
const latency = (check: Partial<MetricCheck>, canary: QueryOutcome, stable?: QueryOutcome): MetricReading => ({
  check: { name: 'request-duration-p99', ...check },
  unit: 'ms',
  better: 'lower',
  query: 'q',
  canary,
  ...(stable ? { stable } : {}),
});

describe('judgeMetric', () => {
  const rows: Array<[string, MetricReading, Partial<Measurement>]> = [
    ['min met', rate({ min: 99 }, v(99.5)), { verdict: 'pass', value: 99.5, threshold: '>= 99%' }],
    ['min exactly met', rate({ min: 99 }, v(99)), { verdict: 'pass', value: 99 }],
    ['below min', rate({ min: 99 }, v(70)), { verdict: 'fail', value: 70, message: '70% is below the minimum 99%' }],
    ['above max', latency({ max: 500 }, v(995)), { verdict: 'fail', value: 995, threshold: '<= 500 ms', message: '995 ms is above the maximum 500 ms' }],
    ['+Inf above max', latency({ max: 500 }, v(Infinity)), { verdict: 'fail', value: Infinity, message: '+Inf ms is above the maximum 500 ms' }],
    ['empty result', rate({ min: 99 }, empty), { verdict: 'inconclusive', value: null, message: 'no data: the query returned no series' }],
    ['NaN', rate({ min: 99 }, v(Number.NaN)), { verdict: 'inconclusive', value: null }],
    ['outage', rate({ min: 99 }, down), { verdict: 'error', value: null, message: down.message }],
    ['relative min within', rate({ min: 90, maxDegradation: 0.5 }, v(99.6), v(100)), { verdict: 'pass', stableValue: 100, threshold: '>= 90% and >= stable - 0.5' }],
    ['relative min breached, absolute fine', rate({ min: 90, maxDegradation: 0.5 }, v(99), v(100)), { verdict: 'fail', value: 99, stableValue: 100, message: '99% is 1 below stable (100%); at most 0.5 allowed' }],
    ['relative max within', latency({ max: 500, maxDegradation: 20 }, v(119), v(100)), { verdict: 'pass', stableValue: 100, threshold: '<= 500 ms and <= stable + 20%' }],
    ['relative max breached, absolute fine', latency({ max: 500, maxDegradation: 20 }, v(150), v(100)), { verdict: 'fail', stableValue: 100, message: '150 ms is 50% above stable (100 ms); at most 20% allowed' }],
    ['relative: absolute fail wins', latency({ max: 100, maxDegradation: 20 }, v(150), v(140)), { verdict: 'fail', message: '150 ms is above the maximum 100 ms' }],
    ['relative: stable down', rate({ min: 90, maxDegradation: 1 }, v(99), down), { verdict: 'error', value: 99 }],
    ['relative: stable has no data', rate({ min: 90, maxDegradation: 1 }, v(99), empty), { verdict: 'inconclusive', value: 99, stableValue: null }],
    ['relative: stable NaN', latency({ maxDegradation: 10 }, v(99), v(Number.NaN)), { verdict: 'inconclusive', stableValue: null }],
    ['relative only, direction from the built-in', latency({ maxDegradation: 10 }, v(111), v(100)), { verdict: 'fail', threshold: '<= stable + 10%' }],
    ['relative: canary NaN is inconclusive before comparing', rate({ maxDegradation: 1 }, v(Number.NaN), v(100)), { verdict: 'inconclusive', value: null }],
  ];

  it.each(rows)('%s', (_name, reading, expected) => {
    expect(judgeMetric(reading)).toMatchObject({ name: reading.check.name, query: 'q', ...expected });
  });

  it('never passes missing data, whatever the threshold', () => {
    for (const outcome of [empty, v(Number.NaN), down]) {
      for (const check of [{ min: 0 }, { max: 1e9 }, { min: 0, maxDegradation: 100 }, {}]) {
        expect(judgeMetric(rate(check, outcome, v(100))).verdict).not.toBe('pass');
      }
    }
  });
});

describe('judgeRequestCount and gateOnTraffic', () => {
  it.each([
    [v(250), 20, 'pass'],
    [v(20), 20, 'pass'],
    [v(19.5), 20, 'inconclusive'],
    [empty, 20, 'inconclusive'],
    [v(Number.NaN), 20, 'inconclusive'],
    [down, 20, 'error'],
  ] as const)('%j with minRequests %i → %s', (outcome, min, verdict) => {
    expect(judgeRequestCount(outcome, min, 'q').verdict).toBe(verdict);
  });

  const pass: Measurement = { name: 'a', verdict: 'pass', value: 100, threshold: '>= 99%' };
  const fail: Measurement = { name: 'b', verdict: 'fail', value: 50, threshold: '>= 99%', message: '50% is below the minimum 99%' };
  const error: Measurement = { name: 'c', verdict: 'error', value: null, threshold: '', message: 'down' };

  it('keeps verdicts when there was enough traffic', () => {
    expect(gateOnTraffic([pass, fail, error], judgeRequestCount(v(100), 20, 'q'))).toEqual([pass, fail, error]);
  });

  it('turns pass and fail into inconclusive on too little traffic, keeping the figures', () => {
    const out = gateOnTraffic([pass, fail, error], judgeRequestCount(v(3), 20, 'q'));

    expect(out.map((m) => m.verdict)).toEqual(['inconclusive', 'inconclusive', 'error']);
    expect(out[1]).toMatchObject({ value: 50, message: 'not judged: only 3 requests in the window; 20 needed to judge (50% is below the minimum 99%)' });
  });

  it('turns pass and fail into error when the traffic is unknown', () => {
    expect(gateOnTraffic([pass, fail], judgeRequestCount(down, 20, 'q')).map((m) => m.verdict)).toEqual(['error', 'error']);
  });
});
