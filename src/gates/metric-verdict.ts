// Verdicts for metric measurements: pure functions from query outcomes to a Measurement with the
// figures that explain it. Missing data is never a pass; an outage is never a verdict on the canary.

import type { MetricCheck } from '../core/definition.js';
import type { Measurement, Verdict } from '../core/gate.js';
import { formatFigure } from './format-figure.js';
import type { QueryOutcome } from './query-outcome.js';

export interface MetricReading {
  check: MetricCheck;
  /** Unit shown next to figures: `%`, `ms`, `requests` or ''. */
  unit: string;
  /** Which way is good when the check gives neither `min` nor only `max`. */
  better: 'higher' | 'lower';
  query: string;
  canary: QueryOutcome;
  /** The same metric for the stable workload in the same window; needed when `maxDegradation` is set. */
  stable?: QueryOutcome;
}

/** `higher`: success-rate-like (min, and stable minus N points); `lower`: latency-like (max, and stable plus N %). */
export function metricDirection(check: MetricCheck, fallback: 'higher' | 'lower'): 'higher' | 'lower' {
  if (check.min !== undefined && check.max === undefined) return 'higher';
  if (check.max !== undefined && check.min === undefined) return 'lower';
  return fallback;
}

export function thresholdText(check: MetricCheck, unit: string, better: 'higher' | 'lower'): string {
  const parts: string[] = [];
  if (check.min !== undefined) parts.push(`>= ${formatFigure(check.min, unit)}`);
  if (check.max !== undefined) parts.push(`<= ${formatFigure(check.max, unit)}`);
  if (check.maxDegradation !== undefined) {
    parts.push(
      metricDirection(check, better) === 'higher'
        ? `>= stable - ${formatFigure(check.maxDegradation)}`
        : `<= stable + ${formatFigure(check.maxDegradation)}%`,
    );
  }
  return parts.length > 0 ? parts.join(' and ') : 'any value';
}

export function judgeMetric(reading: MetricReading): Measurement {
  const { check, unit, canary } = reading;
  const direction = metricDirection(check, reading.better);
  const base = { name: check.name, threshold: thresholdText(check, unit, reading.better), query: reading.query };
  const result = (verdict: Verdict, value: number | null, message?: string, stableValue?: number | null): Measurement => ({
    ...base,
    verdict,
    value,
    ...(stableValue !== undefined ? { stableValue } : {}),
    ...(message !== undefined ? { message } : {}),
  });

  if (canary.kind === 'error') return result('error', null, canary.message);
  if (canary.kind === 'empty') return result('inconclusive', null, 'no data: the query returned no series');
  const value = canary.value;
  if (Number.isNaN(value)) return result('inconclusive', null, 'no data: the query returned NaN (no requests in the window?)');
  const shown = formatFigure(value, unit);

  if (check.min !== undefined && value < check.min) return result('fail', value, `${shown} is below the minimum ${formatFigure(check.min, unit)}`);
  if (check.max !== undefined && value > check.max) return result('fail', value, `${shown} is above the maximum ${formatFigure(check.max, unit)}`);
  if (check.maxDegradation === undefined) return result('pass', value);

  const stable = reading.stable;
  if (!stable) return result('error', value, 'relative threshold without a stable reading');
  if (stable.kind === 'error') return result('error', value, `stable: ${stable.message}`);
  if (stable.kind === 'empty' || Number.isNaN(stable.value)) {
    return result('inconclusive', value, 'no stable figure to compare with (stable workload has no data in the window)', null);
  }
  const stableValue = stable.value;
  const stableShown = formatFigure(stableValue, unit);
  const allowed = check.maxDegradation;
  if (direction === 'higher') {
    const below = stableValue - value;
    if (below > allowed) {
      return result('fail', value, `${shown} is ${formatFigure(below)} below stable (${stableShown}); at most ${formatFigure(allowed)} allowed`, stableValue);
    }
  } else if (value > stableValue * (1 + allowed / 100)) {
    const above = stableValue > 0 ? `${formatFigure(((value - stableValue) / stableValue) * 100)}% above` : 'above';
    return result('fail', value, `${shown} is ${above} stable (${stableShown}); at most ${formatFigure(allowed)}% allowed`, stableValue);
  }
  return result('pass', value, undefined, stableValue);
}

/** The `minRequests` measurement: requests to the canary in the window. */
export function judgeRequestCount(outcome: QueryOutcome, minRequests: number, query: string): Measurement {
  const base = { name: 'request-count', threshold: `>= ${minRequests} requests`, query };
  if (outcome.kind === 'error') return { ...base, verdict: 'error', value: null, message: outcome.message };
  const count = outcome.kind === 'empty' || Number.isNaN(outcome.value) ? 0 : outcome.value;
  if (count < minRequests) {
    return { ...base, verdict: 'inconclusive', value: count, message: `only ${formatFigure(count)} requests in the window; ${minRequests} needed to judge` };
  }
  return { ...base, verdict: 'pass', value: count };
}

/**
 * Too little traffic (or an unknown amount of it) makes the metric verdicts meaningless: a pass or a
 * fail on three requests becomes the request count's own verdict. Errors and inconclusive stay.
 */
export function gateOnTraffic(measurements: readonly Measurement[], requestCount: Measurement): Measurement[] {
  if (requestCount.verdict === 'pass') return [...measurements];
  return measurements.map((m) =>
    m.verdict === 'pass' || m.verdict === 'fail'
      ? { ...m, verdict: requestCount.verdict, message: `not judged: ${requestCount.message ?? 'request count unknown'}${m.message ? ` (${m.message})` : ''}` }
      : m,
  );
}
