import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAlertPresets } from '../../src/gates/alert-presets.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { alertWebhookRoutes } from '../../src/server/routes/alert-webhook.js';
import { AlertEngineRecorder, REVIEWS_MATCHERS } from './alert-engine-recorder.js';

const SECRET = 'generic-alert-secret';
const anomaly = JSON.parse(readFileSync(new URL('../fixtures/bkmonitor/anomaly-notice.json', import.meta.url), 'utf8'));
const recovery = { ...anomaly, type: 'RECOVERY_NOTICE', event: { ...anomaly.event, end_time: '2026-11-25 12:05:00' } };

// A tool of our own design, configured through ALERT_PRESETS_FILE.
const presetsFile = join(mkdtempSync(join(tmpdir(), 'canarybot-presets-')), 'presets.yaml');
writeFileSync(
  presetsFile,
  `presets:
  grafana-lite:
    alerts: items
    status: { field: state, firing: [alerting], resolved: [ok] }
    name: rule.title
    fingerprint: [id]
    startsAt: since
    labels: { severity: rule.level }
    labelMaps: [tags]
    staticLabels: { via: grafana-lite }
`,
);

let app: FastifyInstance;
let engine: AlertEngineRecorder;

beforeEach(async () => {
  engine = new AlertEngineRecorder([{ id: 'rel-reviews', matchers: REVIEWS_MATCHERS }]);
  app = await buildApp({ logger: false, routes: [alertWebhookRoutes({ engine, secret: SECRET, presets: loadAlertPresets(presetsFile) })] });
});
afterEach(async () => {
  await app.close();
});

const post = (preset: string, payload: unknown, auth: { header?: string; query?: string } = { header: `Bearer ${SECRET}` }, raw?: string) =>
  app.inject({
    method: 'POST',
    url: `/webhooks/alerts/${preset}${auth.query !== undefined ? `?token=${encodeURIComponent(auth.query)}` : ''}`,
    headers: { 'content-type': 'application/json', ...(auth.header ? { authorization: auth.header } : {}) },
    payload: raw ?? JSON.stringify(payload),
  });

describe('POST /webhooks/alerts/bkmonitor (BlueKing monitor callbacks)', () => {
  it('maps an ANOMALY_NOTICE to a firing alert whose labels come from strategy, event and dimensions, and aborts the match', async () => {
    const response = await post('bkmonitor', anomaly);

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ aborted: ['rel-reviews'], alerts: ['reviews error rate'] });
    expect(engine.alerts).toEqual([
      {
        name: 'reviews error rate',
        labels: {
          alertname: 'reviews error rate',
          strategy_id: '34',
          bk_biz_id: '2',
          level: '1',
          level_name: 'fatal',
          service: 'reviews',
          namespace: 'bookinfo',
          bk_target_ip: '10.0.3.7',
          bk_topo_node: 'module|12',
          severity: 'critical',
          source: 'bkmonitor',
        },
        startsAt: '2026-11-25 12:00:00',
        fingerprint: 'c0ffee00c0ffee00c0ffee00c0ffee00.1795000000.12.34.1',
        source: 'alerts-bkmonitor',
      },
    ]);
  });

  it('does nothing on a RECOVERY_NOTICE', async () => {
    const response = await post('bkmonitor', recovery);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ignored: 'no firing alerts in the payload' });
    expect(engine.alerts).toEqual([]);
  });

  it('answers 200 ignored when the dimensions match no live release', async () => {
    const other = { ...anomaly, latest_anomaly_record: { origin_alarm: { data: { dimensions: { service: 'ratings' } } } } };

    const response = await post('bkmonitor', other);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ignored: 'no live release matches the firing alerts' });
  });

  it('accepts the secret as ?token= for tools that cannot set headers', async () => {
    const response = await post('bkmonitor', anomaly, { query: SECRET });

    expect(response.statusCode).toBe(202);
  });

  it.each([
    ['no secret', {}],
    ['a wrong bearer', { header: 'Bearer wrong' }],
    ['a wrong token', { query: 'wrong' }],
  ])('refuses %s with 401', async (_name, auth) => {
    const response = await post('bkmonitor', anomaly, auth);

    expect(response.statusCode).toBe(401);
    expect(engine.alerts).toEqual([]);
  });

  it.each([
    ['malformed JSON', '{"type": "ANOMALY_NOTICE",'],
    ['a body without type', JSON.stringify({ event: anomaly.event })],
    ['a JSON string', '"ANOMALY_NOTICE"'],
    ['an empty array', '[]'],
  ])('refuses %s with 400', async (_name, raw) => {
    const response = await post('bkmonitor', undefined, undefined, raw);

    expect(response.statusCode).toBe(400);
    expect(engine.alerts).toEqual([]);
  });

  it('answers 404 for an unknown preset', async () => {
    const response = await post('nagios', anomaly);

    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'unknown alert preset "nagios"' });
  });
});

describe('POST /webhooks/alerts/:preset with a preset from ALERT_PRESETS_FILE', () => {
  const payload = {
    items: [
      { id: 'a1', state: 'alerting', since: '2026-11-25T12:00:00Z', rule: { title: 'Reviews 5xx', level: 'page' }, tags: { service: 'reviews', team: 'books' } },
      { id: 'a2', state: 'ok', since: '2026-11-25T11:00:00Z', rule: { title: 'Reviews slow', level: 'page' }, tags: { service: 'reviews' } },
      { id: 'a3', state: 'pending', rule: { title: 'Reviews flapping' }, tags: { service: 'reviews' } },
    ],
  };

  it('maps each firing item with the configured fields; resolved and unknown states do nothing', async () => {
    const response = await post('grafana-lite', payload);

    expect(response.statusCode).toBe(202);
    expect(engine.alerts).toEqual([
      {
        name: 'Reviews 5xx',
        labels: { service: 'reviews', team: 'books', severity: 'page', alertname: 'Reviews 5xx', via: 'grafana-lite' },
        startsAt: '2026-11-25T12:00:00Z',
        fingerprint: 'a1',
        source: 'alerts-grafana-lite',
      },
    ]);
  });

  it('refuses a body whose alerts field is not a list', async () => {
    const response = await post('grafana-lite', { items: { id: 'a1' } });

    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/items is not an array/);
  });

  it('keeps the built-in bkmonitor preset next to the file presets', async () => {
    expect((await post('bkmonitor', anomaly)).statusCode).toBe(202);
  });
});

describe('metric labels of unauthenticated requests', () => {
  it('keeps /metrics the same size however many preset names unauthenticated requests invent', async () => {
    const metrics = createMetrics();
    const guarded = await buildApp({ logger: false, routes: [alertWebhookRoutes({ engine, secret: SECRET, metrics })] });
    const scrape = () => metrics.registry.metrics();
    const send = (name: string) =>
      guarded.inject({ method: 'POST', url: `/webhooks/alerts/${name}`, headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, payload: '{}' });
    try {
      await send('first-invented-name');
      const after1 = (await scrape()).split('\n').length;
      for (let i = 0; i < 300; i++) expect((await send(`invented-${i}-${'x'.repeat(40)}`)).statusCode).toBe(401);
      const after300 = await scrape();

      expect(after300.split('\n').length).toBe(after1);
      expect(after300).not.toContain('invented');
      expect(after300).toMatch(/source="alerts",event="alert",outcome="refused"\} 301/);
    } finally {
      await guarded.close();
    }
  });
});
