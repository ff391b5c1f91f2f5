// The Grafana dashboard (compose and chart ship the same file): its data source is a variable, it
// filters by service and namespace, and every panel's query runs on a real Prometheus that scrapes
// the bot's own registry.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { refreshReleaseGauges } from '../../src/server/release-gauges.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { releaseRecord, reviewsDefinition } from '../support/release-fixture.js';

interface Target { refId: string; expr: string; datasource: { uid: string } }
interface Panel { id: number; title: string; datasource: { uid: string }; targets: Target[] }
interface Variable { type: string; name: string; query: string | { query: string }; datasource?: { uid: string } }
interface Dashboard { panels: Panel[]; templating: { list: Variable[] } }

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/compose/grafana/dashboards/canarybot.json', import.meta.url), 'utf8')) as Dashboard;
const targets = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, ...target })));
const variable = (name: string): Variable | undefined => dashboard.templating.list.find((candidate) => candidate.name === name);
/** Series that carry the service and namespace labels: a query of them must honour the filters. */
const FILTERABLE = /canarybot_(releases_total|gate_verdicts_total|canary_weight_percent|release_status|analysis_metric_value|analysis_metric_threshold)\b/;

describe('the Grafana dashboard', () => {
  it('takes its data source as a variable, never a fixed uid', () => {
    expect(variable('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of dashboard.panels) expect(panel.datasource.uid, panel.title).toBe('${datasource}');
    for (const target of targets) expect(target.datasource.uid, target.panel).toBe('${datasource}');
    expect(variable('service')?.datasource?.uid).toBe('${datasource}');
  });

  it('filters every per-service series by the service and namespace variables', () => {
    expect(variable('namespace')).toMatchObject({ type: 'query', query: { query: 'label_values(canarybot_release_status, namespace)' } });
    expect(variable('service')).toMatchObject({ type: 'query', query: { query: 'label_values(canarybot_release_status{namespace=~"$namespace"}, service)' } });
    const filterable = targets.filter((target) => FILTERABLE.test(target.expr));
    expect(filterable.length).toBeGreaterThanOrEqual(6);
    for (const target of filterable) expect(target.expr, target.panel).toContain('service=~"$service", namespace=~"$namespace"');
  });
});

describe('the Grafana dashboard on a real Prometheus', () => {
  let exporter: Server;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    const metrics = createMetrics({ defaults: true });
    const target = { service: 'reviews', namespace: 'bookinfo', cluster: 'default' };
    metrics.releasesTotal.inc({ ...target, outcome: 'succeeded' });
    metrics.gateVerdicts.inc({ ...target, verdict: 'pass' });
    metrics.canaryWeight.set(target, 20);
    metrics.releasesTotal.inc({ service: 'ratings', namespace: 'other', cluster: 'default', outcome: 'failed' });
    const release = releaseRecord({
      definition: reviewsDefinition({ strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis' }] } }),
      state: 'progressing',
      gates: [{ stepIndex: 1, check: { verdict: 'pass', at: 1, measurements: [{ name: 'request-success-rate', value: 99.7, verdict: 'pass', threshold: '>= 99' }] } }],
    });
    await refreshReleaseGauges(metrics, { list: async (query) => (query?.service === 'reviews' ? [release] : []) }, ['reviews']);
    exporter = createServer((_, response) => {
      void metrics.registry.metrics().then((body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body));
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    prometheus = await startPrometheus([`127.0.0.1:${(exporter.address() as AddressInfo).port}`]);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.close();
    await new Promise((resolve) => exporter?.close(resolve));
  });

  async function query(expr: string): Promise<{ status: string; data: { result: Array<{ metric: Record<string, string> }> } }> {
    const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
    return (await (await fetch(url)).json()) as never;
  }

  const filled = (expr: string): string => expr.replaceAll('$service', 'reviews').replaceAll('$namespace', 'bookinfo');

  it('runs every panel query, and the per-service ones find only the chosen service', async () => {
    // increase() and rate() need two scrapes.
    await waitForScrapes(3, Date.now() + 60_000);

    for (const target of targets) {
      const answer = await query(filled(target.expr));
      expect(answer.status, `${target.panel}: ${target.expr}`).toBe('success');
      if (target.expr.includes('bucket') || target.expr.includes('webhook') || target.expr.includes('queue_jobs')) continue;
      expect(answer.data.result.length, `${target.panel}: ${target.expr}`).toBeGreaterThan(0);
      for (const series of answer.data.result) if ('service' in series.metric) expect(series.metric.service).toBe('reviews');
    }
  }, 90_000);

  it('lists the services of the chosen namespace for the service variable', async () => {
    const match = 'canarybot_release_status{namespace=~"bookinfo"}';
    const answer = (await (await fetch(`${prometheus.url}/api/v1/label/service/values?match[]=${encodeURIComponent(match)}`)).json()) as { data: string[] };

    expect(answer.data).toEqual(['reviews']);
  });

  async function waitForScrapes(count: number, deadline: number): Promise<void> {
    for (;;) {
      const answer = (await query('count_over_time(canarybot_build_info[5m])')) as unknown as { data: { result: Array<{ value: [number, string] }> } };
      if (Number(answer.data.result[0]?.value[1] ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`fewer than ${count} scrapes before the deadline`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
});
