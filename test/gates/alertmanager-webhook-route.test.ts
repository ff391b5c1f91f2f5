import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { alertmanagerWebhookRoutes } from '../../src/server/routes/alertmanager-webhook.js';
import { AlertEngineRecorder, REVIEWS_MATCHERS } from './alert-engine-recorder.js';

const SECRET = 'am-webhook-secret';
const firingPayload = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8'));

let app: FastifyInstance;
let engine: AlertEngineRecorder;
let metrics: ReturnType<typeof createMetrics>;

beforeEach(async () => {
  engine = new AlertEngineRecorder([
    { id: 'rel-reviews', matchers: REVIEWS_MATCHERS },
    { id: 'rel-ratings', matchers: [{ name: 'service', op: '=', value: 'ratings' }] },
    { id: 'rel-no-alerts', matchers: [] },
  ]);
  metrics = createMetrics();
  app = await buildApp({ logger: false, routes: [alertmanagerWebhookRoutes({ engine, secret: SECRET, metrics })] });
});
afterEach(async () => {
  await app.close();
});

const post = (payload: unknown, authorization: string | null = `Bearer ${SECRET}`, raw?: string) =>
  app.inject({
    method: 'POST',
    url: '/webhooks/alertmanager',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    payload: raw ?? JSON.stringify(payload),
  });

const withAlerts = (alerts: unknown[]) => ({ ...firingPayload, alerts });

describe('POST /webhooks/alertmanager', () => {
  it('aborts the live releases a firing alert matches, at once (202 with their ids); resolved alerts do nothing', async () => {
    const response = await post(firingPayload);

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ aborted: ['rel-reviews'], alerts: ['ReviewsHighErrorRate'] });
    expect(engine.alerts).toEqual([
      {
        name: 'ReviewsHighErrorRate',
        labels: { alertname: 'ReviewsHighErrorRate', service: 'reviews', severity: 'critical', namespace: 'bookinfo' },
        startsAt: '2026-11-25T12:00:00.000Z',
        fingerprint: '6a1c2b3d4e5f6789',
        source: 'alertmanager',
      },
    ]);
  });

  it('changes nothing for a payload of resolved alerts (200 ignored)', async () => {
    const response = await post({ ...withAlerts([firingPayload.alerts[1]]), status: 'resolved' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ignored: 'no firing alerts in the payload' });
    expect(engine.alerts).toEqual([]);
  });

  it('answers 200 ignored when no live release matches the labels', async () => {
    const alert = { ...firingPayload.alerts[0], labels: { alertname: 'DetailsDown', service: 'details', severity: 'critical' } };

    const response = await post(withAlerts([alert]));

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ignored: 'no live release matches the firing alerts', alerts: ['DetailsDown'] });
    expect(engine.alerts).toHaveLength(1);
  });

  it('a firing alert with a non-matching severity does not abort reviews', async () => {
    const alert = { ...firingPayload.alerts[0], labels: { ...firingPayload.alerts[0].labels, severity: 'warning' } };

    const response = await post(withAlerts([alert]));

    expect(response.statusCode).toBe(200);
    expect(response.json()).toHaveProperty('ignored');
  });

  it('hashes the labels into a fingerprint when the sender gives none', async () => {
    const { fingerprint: _dropped, ...alert } = firingPayload.alerts[0];

    await post(withAlerts([alert]));
    await post(withAlerts([{ ...alert, labels: { ...alert.labels } }]));

    expect(engine.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(engine.alerts[1]!.fingerprint).toBe(engine.alerts[0]!.fingerprint);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong secret', 'Bearer nope'],
    ['a secret with a different length', `Bearer ${SECRET}x`],
    ['another scheme', `Basic ${SECRET}`],
  ])('refuses %s with 401 before looking at the body', async (_name, authorization) => {
    const response = await post(undefined, authorization, '{ this is not json');

    expect(response.statusCode).toBe(401);
    expect(engine.alerts).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('canarybot_webhook_deliveries_total')).toContain('outcome="refused"} 1');
  });

  it.each([
    ['malformed JSON', '{"alerts": [', 400],
    ['no alerts array', JSON.stringify({ version: '4', status: 'firing' }), 400],
    ['an alert without labels', JSON.stringify(withAlerts([{ status: 'firing', startsAt: 'x' }])), 400],
    ['an unknown alert status', JSON.stringify(withAlerts([{ ...firingPayload.alerts[0], status: 'pending' }])), 400],
  ])('refuses %s with 400', async (_name, raw, status) => {
    const response = await post(undefined, `Bearer ${SECRET}`, raw);

    expect(response.statusCode).toBe(status);
    expect(engine.alerts).toEqual([]);
  });

  it('answers 503 so Alertmanager retries when the engine cannot take the alert', async () => {
    engine.failing = true;

    const response = await post(firingPayload);

    expect(response.statusCode).toBe(503);
  });

  it('refuses to start without a secret', () => {
    expect(() => alertmanagerWebhookRoutes({ engine, secret: '' })).toThrow(/ALERT_WEBHOOK_SECRET/);
  });
});
