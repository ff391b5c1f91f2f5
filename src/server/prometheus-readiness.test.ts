import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { Definition } from '../core/definition.js';
import { createGateProviders } from '../gates/gate-providers.js';
import { canaryDefinition } from '../../test/support/engine-definitions.js';
import { freePort } from '../../test/support/free-port.js';
import { startPrometheus, type PrometheusServer } from '../../test/support/prometheus.js';
import { prometheusChecks } from './prometheus-readiness.js';

let prometheus: PrometheusServer;
let closedUrl: string;

beforeAll(async () => {
  prometheus = await startPrometheus([]);
  closedUrl = `http://127.0.0.1:${await freePort()}`;
}, 60_000);

afterAll(async () => {
  await prometheus?.close();
});

function tenant(name: string, url?: string): Definition {
  const definition = canaryDefinition({ name });
  return url ? { ...definition, analysis: { ...definition.analysis, provider: { prometheus: { url, headers: { 'X-Scope-OrgID': name } } } } } : definition;
}

async function probeAll(definitions: Definition[], botUrl?: string) {
  const providers = createGateProviders(loadConfig(botUrl ? { PROMETHEUS_URL: botUrl, PROMETHEUS_TIMEOUT: '1s' } : { PROMETHEUS_TIMEOUT: '1s' }), definitions, {});
  const checks = prometheusChecks(providers.botMetrics, definitions, providers.metricsFor);
  return Promise.all(checks.map(async (check) => ({ name: check.name, ok: await check.probe().catch(() => false) })));
}

describe('prometheusChecks', () => {
  it("probes the bot-wide Prometheus and each pipeline's own, naming the pipeline; pipelines on the bot-wide one add nothing", async () => {
    const results = await probeAll([tenant('reviews'), tenant('ratings', prometheus.url), tenant('details', closedUrl)], prometheus.url);

    expect(results).toEqual([
      { name: 'prometheus', ok: true },
      { name: 'prometheus:ratings', ok: true },
      { name: 'prometheus:details', ok: false },
    ]);
  });

  it('reports an unreachable bot-wide Prometheus, and nothing when none is configured and no pipeline has its own', async () => {
    expect(await probeAll([tenant('reviews')], closedUrl)).toEqual([{ name: 'prometheus', ok: false }]);
    expect(await probeAll([tenant('reviews')])).toEqual([]);
  });
});
