// A pod that restarts during a GitLab outage: `createBot` starts anyway (alerts and rollbacks do not
// need GitLab), asks GET /user in the background, answers MR comments 503 until it knows who it is
// (GitLab redelivers them), and says so in /readyz?verbose.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AlertGate } from '../../src/gates/alertmanager.js';
import type { MetricProvider } from '../../src/gates/query-outcome.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { commentHook, ROOT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';

const SECRET = 'gitlab-down-webhook-secret';
const ALERT_SECRET = 'gitlab-down-alert-secret';
const healthy: MetricProvider = { query: async () => ({ kind: 'value', value: 100, series: 1 }) };
const quiet: AlertGate = { check: async () => [{ name: 'alert:alertmanager', verdict: 'pass', value: 0, threshold: 'no active matching alert' }] };

let world: World;
let redis: RedisServer;
let bot: Bot | undefined;

beforeAll(async () => {
  [world, redis] = await Promise.all([startWorld(), startRedisServer()]);
});

afterAll(async () => {
  await bot?.close();
  await redis?.stop();
  await world?.close();
});

describe('GitLab down when the bot starts', () => {
  it('starts, takes alerts, answers MR comments 503 until GET /user answers, and reports it in /readyz?verbose', async () => {
    world.gitlab.fail({ status: 503 });
    const config = loadConfig({
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      ALERT_WEBHOOK_SECRET: ALERT_SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      LOG_LEVEL: 'silent',
    });

    bot = await createBot(config, { metricProvider: healthy, alertGate: quiet, identityBackoff: { baseMs: 100, capMs: 300 } });
    await bot.start();
    const comment = () => bot!.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Note Hook'), payload: commentHook(world, 1, '/canary status', ROOT) });
    const during = {
      readyz: await bot.app.inject({ method: 'GET', url: '/readyz?verbose' }),
      comment: await comment(),
      alert: await bot.app.inject({
        method: 'POST',
        url: '/webhooks/alertmanager',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` },
        payload: { version: '4', status: 'firing', receiver: 'canarybot', groupKey: 'k', alerts: [{ status: 'firing', labels: { alertname: 'X', service: 'reviews' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z' }] },
      }),
    };
    world.gitlab.heal();
    const known = await waitUntil('the bot identity to be known', async () => {
      const body = (await bot!.app.inject({ method: 'GET', url: '/readyz?verbose' })).json() as { gitlabIdentity?: { known: boolean } };
      return body.gitlabIdentity?.known ? body.gitlabIdentity : null;
    }, 15_000);
    const after = await comment();

    expect(during.readyz.json()).toMatchObject({ gitlabIdentity: { known: false, failures: expect.any(Number) } });
    expect((during.readyz.json() as { gitlabIdentity: { failures: number } }).gitlabIdentity.failures).toBeGreaterThanOrEqual(1);
    expect(during.comment.statusCode).toBe(503);
    expect(during.alert.statusCode).toBeLessThan(300);
    expect(known).toMatchObject({ known: true, username: 'canarybot' });
    expect(after.statusCode).toBe(202);
  }, 60_000);
});
