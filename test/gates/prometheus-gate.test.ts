import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricCheck } from '../../src/core/definition.js';
import { decide } from '../../src/core/decide.js';
import type { Measurement } from '../../src/core/gate.js';
import type { Release } from '../../src/core/release.js';
import { createGateEvaluator } from '../../src/gates/gate-evaluator.js';
import { createPrometheusProvider } from '../../src/gates/prometheus.js';
import type { MetricProvider } from '../../src/gates/query-outcome.js';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { analysisSpec, gateRelease } from './release-fixture.js';

// Real Prometheus scraping an in-test exporter of Istio-named series every second. Each scenario has
// its own workloads, so one Prometheus serves them all at once.

let exporter: IstioExporter;
let prometheus: PrometheusServer;
let provider: MetricProvider;

const successRate = (extra: Partial<MetricCheck> = {}): MetricCheck => ({ name: 'request-success-rate', min: 99, ...extra });
const p99 = (extra: Partial<MetricCheck> = {}): MetricCheck => ({ name: 'request-duration-p99', max: 500, ...extra });
const byName = (measurements: Measurement[], name: string): Measurement => {
  const found = measurements.find((m) => m.name === name);
  if (!found) throw new Error(`no measurement ${name} in ${JSON.stringify(measurements)}`);
  return found;
};

beforeAll(async () => {
  exporter = await startIstioExporter();
  const ns = 'bookinfo';
  exporter.setTraffic('healthy-canary', { namespace: ns, rps: 20, errorRatio: 0, latencyMs: 20 });
  exporter.setTraffic('healthy-stable', { namespace: ns, rps: 20, errorRatio: 0, latencyMs: 20 });
  exporter.setTraffic('erroring-canary', { namespace: ns, rps: 20, errorRatio: 0.3, latencyMs: 20 });
  exporter.setTraffic('quiet-canary', { namespace: ns, rps: 0 });
  exporter.setTraffic('slow-canary', { namespace: ns, rps: 20, latencyMs: 800 });
  exporter.setTraffic('degraded-canary', { namespace: ns, rps: 20, errorRatio: 0.04, latencyMs: 80 });
  prometheus = await startPrometheus([exporter.target]);
  provider = createPrometheusProvider({ url: prometheus.url, timeoutMs: 2_000 });

  // Bounded wait until every busy workload has enough samples in a 10 s window.
  const busy = ['healthy-canary', 'healthy-stable', 'erroring-canary', 'slow-canary', 'degraded-canary'];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await Promise.all(
      busy.map((w) => provider.query(`sum(increase(istio_requests_total{reporter="destination",destination_workload="${w}"}[10s]))`)),
    );
    if (counts.every((c) => c.kind === 'value' && c.value >= 80)) break;
    if (Date.now() > deadline) throw new Error(`Prometheus has no data yet: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 45_000);

afterAll(async () => {
  await prometheus?.close();
  await exporter?.close();
});

describe('Prometheus gate on Istio telemetry (real Prometheus)', () => {
  const evaluate = (canary: string, metrics: MetricCheck[], minRequests = 20, stable = 'healthy-stable') =>
    createGateEvaluator({ metrics: provider }).evaluate(gateRelease({ canary, stable }), analysisSpec({ minRequests, metrics }), metrics);

  it('passes a healthy canary and shows the figures', async () => {
    const result = await evaluate('healthy-canary', [successRate(), p99()]);

    expect(result.verdict).toBe('pass');
    expect(byName(result.measurements, 'request-success-rate')).toMatchObject({ verdict: 'pass', value: 100, threshold: '>= 99%' });
    const latency = byName(result.measurements, 'request-duration-p99');
    expect(latency.verdict).toBe('pass');
    expect(latency.value).toBeGreaterThan(10);
    expect(latency.value).toBeLessThanOrEqual(25);
    expect(latency.query).toContain('destination_workload="healthy-canary"');
    expect(byName(result.measurements, 'request-count').value).toBeGreaterThanOrEqual(20);
  });

  it('fails a canary answering 30 % 5xx', async () => {
    const result = await evaluate('erroring-canary', [successRate()]);

    expect(result.verdict).toBe('fail');
    const rate = byName(result.measurements, 'request-success-rate');
    expect(rate.verdict).toBe('fail');
    expect(rate.value).toBeGreaterThan(60);
    expect(rate.value).toBeLessThan(80);
    expect(rate.message).toMatch(/below the minimum 99%/);
  });

  it('is inconclusive, never pass, without traffic (NaN success rate)', async () => {
    const result = await evaluate('quiet-canary', [successRate(), p99()]);

    expect(result.verdict).toBe('inconclusive');
    expect(byName(result.measurements, 'request-count')).toMatchObject({ verdict: 'inconclusive', value: 0 });
    expect(byName(result.measurements, 'request-success-rate')).toMatchObject({ verdict: 'inconclusive', value: null });
    expect(byName(result.measurements, 'request-success-rate').message).toMatch(/NaN/);
  });

  it('is inconclusive for a workload Prometheus has never seen (empty result)', async () => {
    const result = await evaluate('ghost-canary', [successRate()], 0);

    expect(result.verdict).toBe('inconclusive');
    expect(byName(result.measurements, 'request-success-rate').message).toMatch(/no series/);
  });

  it('is inconclusive with fewer requests than minRequests even when the metrics look fine', async () => {
    const result = await evaluate('healthy-canary', [successRate()], 1_000_000);

    expect(result.verdict).toBe('inconclusive');
    expect(byName(result.measurements, 'request-success-rate').verdict).toBe('inconclusive');
    expect(byName(result.measurements, 'request-count').message).toMatch(/1000000 needed/);
  });

  it('fails a canary whose p99 is above the threshold', async () => {
    const result = await evaluate('slow-canary', [successRate(), p99()]);

    expect(result.verdict).toBe('fail');
    expect(byName(result.measurements, 'request-success-rate').verdict).toBe('pass');
    const latency = byName(result.measurements, 'request-duration-p99');
    expect(latency.verdict).toBe('fail');
    expect(latency.value).toBeGreaterThan(500);
  });

  it('fails on relative thresholds against stable while the absolute ones pass', async () => {
    const result = await evaluate('degraded-canary', [
      successRate({ min: 90, maxDegradation: 0.5 }),
      p99({ max: 500, maxDegradation: 20 }),
    ]);

    expect(result.verdict).toBe('fail');
    const rate = byName(result.measurements, 'request-success-rate');
    expect(rate).toMatchObject({ verdict: 'fail', stableValue: 100, threshold: '>= 90% and >= stable - 0.5' });
    expect(rate.value).toBeGreaterThan(90);
    const latency = byName(result.measurements, 'request-duration-p99');
    expect(latency.verdict).toBe('fail');
    expect(latency.value).toBeLessThan(500);
    expect(latency.stableValue).toBeLessThan(25);
    expect(latency.message).toMatch(/above stable/);
  });

  it('passes relative thresholds when canary and stable behave alike', async () => {
    const result = await evaluate('healthy-canary', [successRate({ maxDegradation: 0.5 }), p99({ maxDegradation: 20 })]);

    expect(result.verdict).toBe('pass');
    expect(byName(result.measurements, 'request-success-rate').stableValue).toBe(100);
  });

  it('handles NaN and +Inf from custom queries, with templates rendered', async () => {
    const nan: MetricCheck = { name: 'custom-nan', query: 'sum(rate(istio_requests_total{destination_workload="{{ canary.deployment }}"}[{{ interval }}])) / 0 * 0', max: 1 };
    const inf: MetricCheck = { name: 'custom-inf', query: 'scalar(vector(1)) / 0', max: 1 };

    const result = await evaluate('healthy-canary', [nan, inf], 0);

    expect(byName(result.measurements, 'custom-nan')).toMatchObject({ verdict: 'inconclusive', value: null });
    expect(byName(result.measurements, 'custom-nan').query).toContain('destination_workload="healthy-canary"}[10s]');
    expect(byName(result.measurements, 'custom-inf')).toMatchObject({ verdict: 'fail', value: Number.POSITIVE_INFINITY });
    expect(result.verdict).toBe('fail');
  });

  it('reports a refused query as an error, not a verdict', async () => {
    const result = await evaluate('healthy-canary', [{ name: 'broken', query: 'sum(rate(', max: 1 }], 0);

    expect(result.verdict).toBe('error');
    expect(byName(result.measurements, 'broken').message).toMatch(/HTTP 400/);
  });

  // Last: stops Prometheus.
  it('is an error, never a verdict, when Prometheus is down', async () => {
    await prometheus.stop();

    const result = await evaluate('erroring-canary', [successRate(), p99()]);

    expect(result.verdict).toBe('error');
    for (const m of result.measurements) {
      expect(m.verdict).toBe('error');
      expect(m.message).toMatch(/Prometheus unreachable/);
    }
  });

  // After the one above: Prometheus is still down. The core's decide counts the error checks.
  it('fails the step only after consecutiveErrorLimit errors in a row (with the core decide)', async () => {
    const evaluator = createGateEvaluator({ metrics: provider });
    const analysis = analysisSpec({ metrics: [successRate()], consecutiveErrorLimit: 4 });
    let release: Release = { ...gateRelease({ canary: 'healthy-canary', stable: 'healthy-stable', definition: { analysis } }), phase: 'checking' };
    let now = 1_000_000;
    const states: string[] = [];

    for (let check = 1; check <= 5; check++) {
      const result = await evaluator.evaluate(release, analysis, analysis.metrics);
      expect(result.verdict).toBe('error');
      release = decide(release, { type: 'gate-result', stepIndex: release.stepIndex, check: result }, now).next;
      states.push(release.state);
      if (release.state !== 'progressing') break;
      now = release.wakeAt ?? now + analysis.intervalMs;
      const tick = decide(release, { type: 'tick' }, now);
      expect(tick.effects).toContainEqual(expect.objectContaining({ type: 'evaluate-gates' }));
      release = tick.next;
    }

    expect(states).toEqual(['progressing', 'progressing', 'progressing', 'progressing', 'rolling-back']);
    expect(release.reason).toMatch(/5 checks in a row could not be evaluated \(consecutiveErrorLimit 4\).*Prometheus unreachable/);
  });
});
