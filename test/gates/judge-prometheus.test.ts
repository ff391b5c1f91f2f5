import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { MetricCheck } from '../../src/core/definition.js';
import type { Measurement } from '../../src/core/gate.js';
import { DEFAULT_METRIC_JUDGE } from '../../src/core/judge/judge-spec.js';
import type { Release } from '../../src/core/release.js';
import { createGateEvaluator } from '../../src/gates/gate-evaluator.js';
import { createGateProviders } from '../../src/gates/gate-providers.js';
import { createPrometheusProvider } from '../../src/gates/prometheus.js';
import type { MetricProvider } from '../../src/gates/query-outcome.js';
import { testCerts } from '../../src/sim/kube/certs.js';
import { startAuthProxy, type AuthProxy } from '../support/auth-proxy.js';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { analysisSpec, gateRelease } from './release-fixture.js';

// The judge against a real Prometheus scraping the test exporter every second: canary and baseline
// samples from query_range, judged as Kayenta would. Latencies spread ±20 % per request, so each
// workload has a distribution of p99s rather than one value.

const NS = 'bookinfo';
const TOKEN = 'judge-test-token';
let exporter: IstioExporter;
let prometheus: PrometheusServer;
let provider: MetricProvider;
let proxy: AuthProxy;
let tlsProxy: AuthProxy;

// A 5 % allowed increase, as teams configure it: with the default 1.0 any significant shift is high,
// and p99s of two identical workloads read from overlapping 5 s windows are autocorrelated, so a
// chance "significant" shift of a millisecond failed the healthy twin now and then under CI load.
const p99: MetricCheck = {
  name: 'request-duration-p99',
  max: 500,
  judge: { ...DEFAULT_METRIC_JUDGE, direction: 'increase', effectSize: { ...DEFAULT_METRIC_JUDGE.effectSize, allowedIncrease: 1.05 } },
};
const successRate: MetricCheck = { name: 'request-success-rate', min: 95, judge: { ...DEFAULT_METRIC_JUDGE, direction: 'decrease', critical: true } };
const METRICS = [successRate, p99];

/** A release whose analysis step began 25 s ago, judged at 1 s steps over 5 s rate windows. */
function release(canary: string, baseline = 'judge-baseline'): Release {
  const r = gateRelease({ canary, stable: 'judge-stable', definition: { analysis: analysisSpec({ windowMs: 5_000, minRequests: 20, metrics: METRICS, judge: { stepMs: 1_000, thresholds: { pass: 95, marginal: 75 }, groups: {} } }) } });
  r.definition.target.baseline = { deployment: baseline, subset: 'baseline' };
  r.definition.target.settleMs = 0;
  r.stepStartedAt = Date.now() - 25_000;
  r.trafficChangedAt = null;
  return r;
}
const judgeOf = (measurements: Measurement[]): Measurement => measurements.find((m) => m.name === 'judge')!;

beforeAll(async () => {
  exporter = await startIstioExporter();
  const typical = { namespace: NS, rps: 40, latencyMs: 100, latencySpread: 0.2 };
  exporter.setTraffic('judge-stable', typical);
  exporter.setTraffic('judge-baseline', typical);
  exporter.setTraffic('judge-twin', typical);
  exporter.setTraffic('judge-noisy', typical);
  exporter.setTraffic('judge-noisy-baseline', typical);
  exporter.setTraffic('judge-slow', { ...typical, latencyMs: 120 });
  prometheus = await startPrometheus([exporter.target]);
  provider = createPrometheusProvider({ url: prometheus.url, timeoutMs: 5_000 });
  [proxy, tlsProxy] = await Promise.all([
    startAuthProxy({ upstream: prometheus.url, token: TOKEN, tenants: ['team-a'] }),
    startAuthProxy({ upstream: prometheus.url, token: TOKEN, tenants: ['team-a'], tls: true }),
  ]);

  // A noisy scrape: three seconds of 900 ms answers from a dependency both versions share, so the
  // canary and its baseline see it alike, well inside the judged range. (Noise on the canary alone
  // spreads over every 5 s window covering it — about a third of the samples — and a rank test then
  // rightly finds a shift now and then: it failed CI.)
  const noisyDependency = (latencyMs: number) => {
    for (const workload of ['judge-noisy', 'judge-noisy-baseline']) exporter.setTraffic(workload, { ...typical, latencyMs });
  };
  setTimeout(() => noisyDependency(900), 14_000);
  setTimeout(() => noisyDependency(typical.latencyMs), 17_000);
  // The judged range is 25 s; wait until Prometheus holds all of it.
  await new Promise((resolve) => setTimeout(resolve, 27_000));
}, 60_000);

afterAll(async () => {
  await Promise.all([proxy?.close(), tlsProxy?.close()]);
  await prometheus?.close();
  await exporter?.close();
});

describe('the judge on a real Prometheus', () => {
  it('judges a canary 20 % slower than its baseline high, though under every fixed threshold', async () => {
    const result = await createGateEvaluator({ metrics: provider }).evaluate(release('judge-slow'), release('judge-slow').definition.analysis, METRICS);

    const judge = judgeOf(result.measurements);
    expect(result.measurements.find((m) => m.name === 'request-duration-p99')).toMatchObject({ verdict: 'pass' });
    expect(result.measurements.find((m) => m.name === 'request-success-rate')).toMatchObject({ verdict: 'pass' });
    expect(judge.verdict).toBe('fail');
    expect(result.verdict).toBe('fail');
    const latency = judge.judge!.metrics.find((m) => m.name === 'request-duration-p99')!;
    expect(latency.classification).toBe('high');
    expect(latency.interval![0]).toBeGreaterThan(10);
    expect(latency.effectSize).toBeGreaterThan(1.1);
    expect(latency.effectSize).toBeLessThan(1.3);
    expect(latency.experiment.count).toBeGreaterThanOrEqual(20);
    expect(judge.value).toBe(50);
    expect(judge.message).toMatch(/^score 50 against judge-baseline \(fails, score >= 95 \(marginal >= 75\)\): request-duration-p99 high \(shift \d/);
    expect(judge.judge!.queries['request-duration-p99']!.baseline).toContain('destination_workload="judge-baseline"');
  });

  it('passes a healthy canary, and one whose samples hold a noisy scrape its baseline saw too', async () => {
    const evaluator = createGateEvaluator({ metrics: provider });

    const twin = await evaluator.evaluate(release('judge-twin'), release('judge-twin').definition.analysis, METRICS);
    const noisy = await evaluator.evaluate(release('judge-noisy', 'judge-noisy-baseline'), release('judge-noisy', 'judge-noisy-baseline').definition.analysis, METRICS);

    expect(judgeOf(twin.measurements)).toMatchObject({ verdict: 'pass', value: 100 });
    expect(judgeOf(noisy.measurements)).toMatchObject({ verdict: 'pass', value: 100 });
    const samples = judgeOf(noisy.measurements).judge!.metrics.find((m) => m.name === 'request-duration-p99')!.experiment;
    expect(samples.count).toBeGreaterThanOrEqual(20);
    expect(samples.mean, 'the noisy scrape is in the judged samples (p99 ~120 ms without it)').toBeGreaterThan(200);
  });

  it('compares with the stable workload without a baseline', async () => {
    const r = release('judge-slow');
    delete r.definition.target.baseline;

    const result = await createGateEvaluator({ metrics: provider }).evaluate(r, r.definition.analysis, METRICS);

    expect(judgeOf(result.measurements).judge).toMatchObject({ against: 'judge-stable', classification: 'fail' });
  });
});

describe('the judge behind an authenticating proxy (bearer token, X-Scope-OrgID)', () => {
  const viaProxy = (url: string, token: string, tenant = 'team-a', ca?: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'canarybot-ca-'));
    const caFile = join(dir, 'ca.pem');
    if (ca) writeFileSync(caFile, ca);
    const config = loadConfig({
      PROMETHEUS_URL: url,
      PROMETHEUS_BEARER_TOKEN: token,
      PROMETHEUS_HEADERS: `X-Scope-OrgID=${tenant}`,
      ...(ca ? { PROMETHEUS_CA_FILE: caFile } : {}),
    });
    const providers = createGateProviders(config, []);
    return createGateEvaluator({ providers });
  };

  it('queries succeed with the token and the tenant', async () => {
    const before = proxy.forwarded.length;

    const result = await viaProxy(proxy.url, TOKEN).evaluate(release('judge-twin'), release('judge-twin').definition.analysis, METRICS);

    expect(result.verdict).toBe('pass');
    expect(proxy.forwarded.length - before).toBeGreaterThanOrEqual(7);
    expect(proxy.forwarded.slice(before).every((f) => f.tenant === 'team-a')).toBe(true);
    expect(proxy.forwarded.slice(before).some((f) => f.path.endsWith('/api/v1/query_range'))).toBe(true);
  });

  it.each([
    ['a wrong token', 'wrong-token', 'team-a', /HTTP 401 \(unauthorized: check PROMETHEUS_BEARER_TOKEN/],
    ['an unknown tenant', TOKEN, 'team-b', /HTTP 403 \(forbidden/],
  ])('%s is an error, never a pass', async (_name, token, tenant, message) => {
    const result = await viaProxy(proxy.url, token, tenant).evaluate(release('judge-twin'), release('judge-twin').definition.analysis, METRICS);

    expect(result.verdict).toBe('error');
    const judge = judgeOf(result.measurements);
    expect(judge.verdict).toBe('error');
    expect(judge.message).toMatch(message);
    expect(JSON.stringify(result)).not.toContain(token);
    expect(result.measurements.every((m) => m.verdict !== 'pass')).toBe(true);
  });

  it('trusts the proxy over https with PROMETHEUS_CA_FILE, and refuses it without', async () => {
    const trusted = await viaProxy(tlsProxy.url, TOKEN, 'team-a', testCerts().caPem).evaluate(release('judge-twin'), release('judge-twin').definition.analysis, METRICS);
    const untrusted = await viaProxy(tlsProxy.url, TOKEN).evaluate(release('judge-twin'), release('judge-twin').definition.analysis, METRICS);

    expect(trusted.verdict).toBe('pass');
    expect(untrusted.verdict).toBe('error');
    expect(judgeOf(untrusted.measurements).message).toMatch(/Prometheus unreachable/);
  });
});
