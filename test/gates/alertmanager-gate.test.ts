import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSourceSpec } from '../../src/core/definition.js';
import { createAlertmanagerGate } from '../../src/gates/alertmanager.js';
import { createGateEvaluator } from '../../src/gates/gate-evaluator.js';
import { startAlertmanager, type AlertmanagerServer, type TestAlert } from '../support/alertmanager.js';
import { freePort } from '../support/free-port.js';
import { analysisSpec, gateRelease } from './release-fixture.js';

// A real Alertmanager: alerts pushed as Prometheus would, read back by the gate through /api/v2/alerts.

let alertmanager: AlertmanagerServer;
beforeAll(async () => {
  alertmanager = await startAlertmanager();
}, 30_000);
afterAll(async () => {
  await alertmanager?.close();
});

const source: AlertSourceSpec = {
  kind: 'alertmanager',
  matchers: [
    { name: 'service', op: '=', value: 'reviews' },
    { name: 'severity', op: '=~', value: 'critical|page' },
  ],
};
const release = gateRelease({ canary: 'reviews-canary', stable: 'reviews-primary', definition: { alerts: [source] } });
const analysis = analysisSpec({ minRequests: 0 });

describe('Alertmanager alert gate (real Alertmanager)', () => {
  it('passes while no matching alert is active, even with other alerts firing', async () => {
    await alertmanager.push([
      { labels: { alertname: 'RatingsDown', service: 'ratings', severity: 'critical' } },
      { labels: { alertname: 'ReviewsWarning', service: 'reviews', severity: 'warning' } },
    ]);
    const evaluator = createGateEvaluator({ alerts: createAlertmanagerGate({ url: alertmanager.url }) });

    const result = await evaluator.evaluate(release, analysis, []);

    expect(result.verdict).toBe('pass');
    expect(result.measurements).toEqual([
      expect.objectContaining({ name: 'alert:alertmanager', verdict: 'pass', value: 0, threshold: 'no active alert matching {service="reviews", severity=~"critical|page"}' }),
    ]);
  });

  it('fails while a matching alert fires and names it; passes again once it is resolved', async () => {
    const alert: TestAlert = { labels: { alertname: 'ReviewsHighErrorRate', service: 'reviews', severity: 'page', namespace: 'bookinfo' } };
    const evaluator = createGateEvaluator({ alerts: createAlertmanagerGate({ url: alertmanager.url }) });
    await alertmanager.push([alert]);

    const firing = await evaluator.evaluate(release, analysis, []);

    expect(firing.verdict).toBe('fail');
    expect(firing.measurements).toEqual([
      expect.objectContaining({ name: 'alert:ReviewsHighErrorRate', verdict: 'fail', message: expect.stringContaining('service="reviews"') }),
    ]);

    await alertmanager.resolve([alert]);
    const resolved = await evaluator.evaluate(release, analysis, []);

    expect(resolved.verdict).toBe('pass');
  });

  it('is an error when Alertmanager cannot be reached', async () => {
    const port = await freePort();
    const gate = createAlertmanagerGate({ url: `http://127.0.0.1:${port}`, timeoutMs: 500 });

    const [measurement] = await gate.check(source);

    expect(measurement).toMatchObject({ name: 'alert:alertmanager', verdict: 'error', value: null });
    expect(measurement?.message).toMatch(/Alertmanager unreachable/);
  });

  it('refuses a source without matchers rather than matching every alert', async () => {
    const [measurement] = await createAlertmanagerGate({ url: alertmanager.url }).check({ kind: 'alertmanager', matchers: [] });

    expect(measurement).toMatchObject({ verdict: 'error', message: 'the alert source has no matchers' });
  });
});
