// The composition root with real adapters (Kubernetes and GitLab API test servers, a private
// redis-server) and only the metric source swapped: a release runs through webhooks end to end in
// process, then /metrics shows every series the bot promises and /readyz follows Redis.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/engine/jobs.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createBot, InvalidDefinitionsError, type Bot } from '../../src/server/create-bot.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { commentHook, pipelineHook, progressNotes, ROOT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

const SECRET = 'wiring-webhook-secret';

let world: World;
let redis: RedisServer;
let config: Config;
let bot: Bot;

beforeAll(async () => {
  world = await startWorld();
  redis = await startRedisServer({ persistent: true });
  config = loadConfig({
    REDIS_URL: redis.url,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    ALERT_WEBHOOK_SECRET: 'wiring-alert-secret',
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: world.pipelinesDir,
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, {
    metricProvider: healthy,
    alertGate: quietAlertmanager,
    writebackPollMs: 50,
    engine: { timing: { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 } },
  });
  await bot.start();
});

afterAll(async () => {
  await bot?.close();
  await redis?.stop();
  await world?.close();
});

async function deliver(hook: object, event: 'Pipeline Hook' | 'Note Hook'): Promise<number> {
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, event), payload: hook });
  return response.statusCode;
}

describe('createBot', () => {
  it('runs a release from a pipeline webhook to promotion with the real adapters', async () => {
    const accepted = await deliver(pipelineHook('1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b', 1), 'Pipeline Hook');
    const waiting = await waitUntil('the release to await approval', async () => {
      const [release] = await bot.engine.list({ state: 'live' });
      return release?.state === 'awaiting-approval' ? release : null;
    });
    const approved = await deliver(commentHook(world, 1, '/canary approve', ROOT), 'Note Hook');
    const ended = await waitUntil('the release to end', async () => {
      const release = await bot.engine.get(waiting.id);
      return release && release.state !== 'awaiting-approval' && release.endedAt ? release : null;
    });
    const note = await waitUntil('the promoted progress note', () => progressNotes(world, 1).find((n) => n.body.includes('promoted')));

    expect(accepted).toBe(202);
    expect(approved).toBe(202);
    expect(ended.state).toBe('succeeded');
    expect(ended.image).toBe('registry.example.com/bookinfo/reviews:1a2b3c4d');
    expect(progressNotes(world, 1)).toHaveLength(1);
    expect(note.history.length).toBeGreaterThan(0);
    world.gitlab.assertNoUnexpectedCalls();
  });

  it('serves every promised series on /metrics after a release has run', async () => {
    const response = await bot.app.inject({ method: 'GET', url: '/metrics' });
    const text = response.body;

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(text).toMatch(/^canarybot_releases_total\{service="reviews",namespace="bookinfo",cluster="default",outcome="succeeded"\} 1$/m);
    expect(text).toMatch(/^canarybot_release_duration_seconds_count\{outcome="succeeded"\} 1$/m);
    expect(text).toMatch(/^canarybot_step_duration_seconds_count\{kind="analysis"\} 1$/m);
    expect(text).toMatch(/^canarybot_step_duration_seconds_count\{kind="approval"\} 1$/m);
    expect(text).toMatch(/^canarybot_gate_verdicts_total\{service="reviews",namespace="bookinfo",cluster="default",verdict="pass"\} [1-9]\d*$/m);
    expect(text).toMatch(/^canarybot_canary_weight_percent\{[^}]*service="reviews"[^}]*\} 0$/m);
    expect(text).toMatch(/^canarybot_webhook_deliveries_total\{source="gitlab",event="pipeline",outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^canarybot_webhook_deliveries_total\{source="gitlab",event="note",outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^canarybot_queue_jobs\{queue="canarybot-releases",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^canarybot_queue_jobs\{queue="gitlab-intake",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^canarybot_release_status\{service="reviews",namespace="bookinfo",cluster="default",state="succeeded"\} 1$/m);
    expect(text).toMatch(/^canarybot_release_status\{service="reviews",namespace="bookinfo",cluster="default",state="progressing"\} 0$/m);
    expect(text).toMatch(/^canarybot_analysis_metric_value\{service="reviews",namespace="bookinfo",cluster="default",metric="[^"]+"\} [\d.e+-]+$/m);
    expect(text).toMatch(/^canarybot_build_info\{version="\d+\.\d+\.\d+[^"]*",revision="[^"]+",nodejs_version="v\d+[^"]*"\} 1$/m);
    // Node's process metrics under the names every Node.js dashboard queries.
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(text).not.toMatch(/^canarybot_process_/m);
  });

  it('answers /readyz 503 naming Redis while it is down, and 200 again once it is back', async () => {
    const before = await bot.app.inject({ method: 'GET', url: '/readyz' });

    await redis.halt();
    const down = await bot.app.inject({ method: 'GET', url: '/readyz' });
    const metricsWhileDown = await bot.app.inject({ method: 'GET', url: '/metrics' });
    await redis.start();
    const back = await waitUntil('readiness to come back', async () => {
      const response = await bot.app.inject({ method: 'GET', url: '/readyz' });
      return response.statusCode === 200 ? response : null;
    });

    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ ok: true, checks: [{ name: 'redis', ok: true }] });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ok: false, failed: ['redis'] });
    expect(metricsWhileDown.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ ok: true });
  });

  it("stays ready when a cluster's API server does not answer, and names it in ?verbose and canarybot_cluster_up", async () => {
    const up = await bot.app.inject({ method: 'GET', url: '/readyz?verbose' });
    const upMetrics = await bot.app.inject({ method: 'GET', url: '/metrics' });
    world.kube.failNext(500);
    const response = await bot.app.inject({ method: 'GET', url: '/readyz?verbose' });
    world.kube.failNext(500);
    const metrics = await bot.app.inject({ method: 'GET', url: '/metrics' });

    expect(up.json()).toMatchObject({ ok: true, details: [{ name: 'cluster:default', ok: true }, { name: 'prometheus', ok: true }, { name: 'worker-idle-with-backlog', ok: true }] });
    expect(upMetrics.body).toMatch(/^canarybot_cluster_up\{cluster="default"\} 1$/m);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, checks: [{ name: 'redis', ok: true }], details: [{ name: 'cluster:default', ok: false, error: 'unreachable' }, { name: 'prometheus', ok: true }, { name: 'worker-idle-with-backlog', ok: true }] });
    expect(metrics.body).toMatch(/^canarybot_cluster_up\{cluster="default"\} 0$/m);
  });

  it('reports workers idle with a backlog in /metrics and /readyz?verbose, without turning unready', async () => {
    const prefix = `{cbtest-idle-${Date.now()}}`;
    const idle = await createBot(config, { prefix, botUsername: 'canarybot', metricProvider: healthy, alertGate: quietAlertmanager, idleWithBacklogMs: 1_000 });
    await idle.start();
    const gauge = async () => /^canarybot_worker_idle_with_backlog (\d)$/m.exec((await idle.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1];
    const busy = await gauge();
    // The engine's workers stop (as a silently stuck worker would) while a job is due.
    await idle.engine.close();
    const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix });
    await queue.add('tick', { kind: 'tick', releaseId: 'r-idle', key: 'k' });
    try {
      await waitUntil('the idle-with-backlog gauge', async () => ((await gauge()) === '1' ? true : null), 10_000);
      const verbose = await idle.app.inject({ method: 'GET', url: '/readyz?verbose' });

      expect(busy).toBe('0');
      expect(verbose.statusCode).toBe(200);
      expect(verbose.json()).toMatchObject({ ok: true, details: expect.arrayContaining([expect.objectContaining({ name: 'worker-idle-with-backlog', ok: false })]) });
    } finally {
      await queue.close();
      await idle.close();
    }
  });

  it('refuses to start with located errors when a definition is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canarybot-bad-pipelines-'));
    cpSync(new URL('../fixtures/pipelines/three-mistakes.yaml', import.meta.url), join(dir, 'three-mistakes.yaml'));

    const error = await createBot({ ...config, pipelinesDir: dir }, { botUsername: 'canarybot', metricProvider: healthy, alertGate: quietAlertmanager }).catch((e: unknown) => e);
    rmSync(dir, { recursive: true, force: true });

    expect(error).toBeInstanceOf(InvalidDefinitionsError);
    const lines = (error as InvalidDefinitionsError).lines;
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/three-mistakes\.yaml:\d+:\d+: /);
  });

});
