// The whole loop with nothing simulated inside the bot: `canarybot serve` as a child process, a
// private redis-server, the real Prometheus scraping an exporter of Istio metrics, and the
// Kubernetes and GitLab API test servers. Assertions read the test servers' recorded state.
//   1. pipeline → canary deployed → 20 % → analysis passes → approval asked → Maintainer approves →
//      100 % → promoted (stable image, canary at 0 replicas, commit status success, one note edited in place)
//   2. an Alertmanager webhook aborts a live release
//   3. a canary answering 30 % 5xx is rolled back, with the figure in the note

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { commentHook, deploymentState, IMAGE, pipelineHook, PROJECT, progressNotes, ROOT, routeWeights, startWorld, waitUntil, webhookHeaders, type World } from './world.js';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const WEBHOOK_SECRET = 'e2e-gitlab-webhook-secret';
const ALERT_SECRET = 'e2e-alert-webhook-secret';
const NS = 'bookinfo';
const SHA = {
  promoted: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  alerted: 'b2c3d4e5f60718293a4b5c6d7e8f901234567890',
  failing: 'c3d4e5f60718293a4b5c6d7e8f90123456789012',
};

interface ReleaseSummary {
  id: string;
  state: string;
  image: string;
  weights: { stable: number; canary: number };
}

let redis: RedisServer;
let exporter: IstioExporter;
let prometheus: PrometheusServer;
let alertmanager: AlertmanagerServer;
let world: World;
let bot: ChildProcess;
let baseUrl: string;
let exited: Promise<number | null>;
/** stdout: the bot's JSON log lines; stderr: Node's own warnings and crash output. */
const logs: string[] = [];
const stderr: string[] = [];

beforeAll(async () => {
  [redis, exporter, world, alertmanager] = await Promise.all([startRedisServer(), startIstioExporter(), startWorld(), startAlertmanager()]);
  exporter.setTraffic('reviews-primary', { namespace: NS, rps: 40 });
  exporter.setTraffic('reviews-canary', { namespace: NS, rps: 40, errorRatio: 0 });
  prometheus = await startPrometheus([exporter.target]);

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  bot = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/canarybot.ts', 'serve'], {
    cwd: ROOT_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ALERT_WEBHOOK_SECRET: ALERT_SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PROMETHEUS_URL: prometheus.url,
      ALERTMANAGER_URL: alertmanager.url,
      PUBLIC_URL: 'https://canarybot.example.com',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => bot.once('exit', (code) => resolve(code)));
  const collect = (into: string[]) => (chunk: Buffer): void => {
    into.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
  };
  bot.stdout?.on('data', collect(logs));
  bot.stderr?.on('data', collect(stderr));
  await waitUntil('canarybot serve to be ready', async () => {
    if (bot.exitCode !== null) throw new Error(`canarybot exited with ${bot.exitCode}:\n${[...logs, ...stderr].join('\n')}`);
    const response = await fetch(`${baseUrl}/readyz`).catch(() => null);
    return response?.status === 200;
  }, 45_000);
}, 90_000);

afterAll(async () => {
  if (process.env.E2E_LOG_FILE) writeFileSync(process.env.E2E_LOG_FILE, [...logs, ...stderr].join('\n'));
  if (bot && bot.exitCode === null) {
    bot.kill('SIGKILL');
    await exited;
  }
  await prometheus?.close();
  await alertmanager?.close();
  await exporter?.close();
  await world?.close();
  await redis?.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function releaseOf(image: string): Promise<ReleaseSummary | undefined> {
  const response = await fetch(`${baseUrl}/api/releases`, { headers: { authorization: `Bearer ${world.gitlab.token}` } });
  const { releases } = (await response.json()) as { releases: ReleaseSummary[] };
  return releases.find((release) => release.image === image);
}

const ended = (image: string) =>
  waitUntil(`the release of ${image} to end`, async () => {
    const release = await releaseOf(image);
    return release && ['succeeded', 'rolled-back', 'failed', 'aborted', 'superseded'].includes(release.state) ? release : null;
  }, 30_000);

const awaitingApproval = (image: string) =>
  waitUntil(`the release of ${image} to await approval`, async () => {
    const release = await releaseOf(image);
    return release?.state === 'awaiting-approval' ? release : null;
  }, 30_000);

/** The final note, once the write-back has caught up with the release's end. */
const finalNote = (iid: number, text: string) =>
  waitUntil(`the progress note of MR !${iid} to say "${text}"`, () => progressNotes(world, iid).find((note) => note.body.includes(text)), 15_000);

const statusStates = (sha: string) => world.gitlab.statuses(PROJECT, sha).filter((s) => s.name === 'canarybot/reviews').map((s) => s.status);

describe('canarybot serve, end to end', () => {
  it('promotes a healthy canary after a Maintainer approves in the MR', async () => {
    const image = `${IMAGE}:${SHA.promoted.slice(0, 8)}`;

    const delivered = await post('/webhooks/gitlab', pipelineHook(SHA.promoted, 1), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const waiting = await awaitingApproval(image);
    const canaryWhileWaiting = deploymentState(world, 'reviews-canary');
    const weightsWhileWaiting = routeWeights(world);
    const askingNote = await waitUntil('the approval request in the progress note', () =>
      progressNotes(world, 1).find((note) => note.body.includes('/canary approve')),
    );
    const approved = await post('/webhooks/gitlab', commentHook(world, 1, '/canary approve', ROOT), webhookHeaders(WEBHOOK_SECRET, 'Note Hook'));
    const done = await ended(image);
    const note = await finalNote(1, 'promoted');
    const states = await waitUntil('the commit status to turn green', () => {
      const all = statusStates(SHA.promoted);
      return all.at(-1) === 'success' ? all : null;
    });

    expect(delivered.status).toBe(202);
    expect(waiting.weights).toEqual({ stable: 80, canary: 20 });
    expect(canaryWhileWaiting).toEqual({ image, replicas: 2 });
    expect(weightsWhileWaiting).toEqual({ stable: 80, canary: 20 });
    expect(approved.status).toBe(202);
    expect(done.state).toBe('succeeded');
    expect(deploymentState(world, 'reviews-primary')).toEqual({ image, replicas: 2 });
    expect(deploymentState(world, 'reviews-canary').replicas).toBe(0);
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(new Set(states).size).toBe(states.length);
    expect(progressNotes(world, 1)).toHaveLength(1);
    expect(note.id).toBe(askingNote.id);
    expect(note.history.length).toBeGreaterThanOrEqual(2);
    expect(note.body).toContain(`<!-- canarybot:release:${done.id} -->`);
    world.gitlab.assertNoUnexpectedCalls();
  }, 60_000);

  it('rolls a live release back when Alertmanager reports a matching alert', async () => {
    const image = `${IMAGE}:${SHA.alerted.slice(0, 8)}`;
    const alert = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as {
      alerts: { startsAt: string }[];
    };
    alert.alerts[0]!.startsAt = new Date().toISOString();

    await post('/webhooks/gitlab', pipelineHook(SHA.alerted, 2), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const live = await awaitingApproval(image);
    const refused = await post('/webhooks/alertmanager', alert, { 'content-type': 'application/json', authorization: 'Bearer wrong' });
    const answer = await post('/webhooks/alertmanager', alert, { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` });
    const done = await ended(image);
    const note = await finalNote(2, 'rolled back');
    const states = await waitUntil('the commit status to turn red', () => {
      const all = statusStates(SHA.alerted);
      return all.at(-1) === 'failed' ? all : null;
    });

    expect(refused.status).toBe(401);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ aborted: [live.id] });
    expect(done.state).toBe('rolled-back');
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(deploymentState(world, 'reviews-canary').replicas).toBe(0);
    expect(deploymentState(world, 'reviews-primary').image).toBe(`${IMAGE}:${SHA.promoted.slice(0, 8)}`);
    expect(note.body).toContain('ReviewsHighErrorRate');
    expect(new Set(states).size).toBe(states.length);
    expect(progressNotes(world, 2)).toHaveLength(1);
  }, 60_000);

  it('rolls back a canary answering 30 % 5xx, with the failing figure in the note', async () => {
    const image = `${IMAGE}:${SHA.failing.slice(0, 8)}`;
    exporter.setTraffic('reviews-canary', { namespace: NS, rps: 40, errorRatio: 0.3 });
    // Wait until the whole analysis window holds failing traffic, so the figure is the canary's own.
    await waitUntil('Prometheus to see the failing canary', async () => {
      const query = `sum(rate(istio_requests_total{destination_workload="reviews-canary",response_code!~"5.."}[5s])) / sum(rate(istio_requests_total{destination_workload="reviews-canary"}[5s])) * 100`;
      const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
      const value = Number(((await response.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1]);
      return value < 80;
    }, 20_000);

    await post('/webhooks/gitlab', pipelineHook(SHA.failing, 3), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const done = await ended(image);
    const note = await finalNote(3, 'rolled back');
    const figure = Number(/request-success-rate (\d+(?:\.\d+)?)/.exec(note.body)?.[1]);
    const states = await waitUntil('the commit status to turn red', () => {
      const all = statusStates(SHA.failing);
      return all.at(-1) === 'failed' ? all : null;
    });

    expect(done.state).toBe('rolled-back');
    expect(figure).toBeGreaterThan(55);
    expect(figure).toBeLessThan(85);
    expect(note.body).toContain('>= 95');
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(deploymentState(world, 'reviews-canary').replicas).toBe(0);
    expect(deploymentState(world, 'reviews-primary').image).toBe(`${IMAGE}:${SHA.promoted.slice(0, 8)}`);
    expect(states).not.toContain('success');
    expect(progressNotes(world, 3)).toHaveLength(1);
  }, 60_000);

  it('serves the metrics of what happened and keeps secrets out of its JSON logs', async () => {
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();

    expect(metrics).toMatch(/^canarybot_releases_total\{service="reviews",namespace="bookinfo",cluster="[^"]+",outcome="succeeded"\} 1$/m);
    expect(metrics).toMatch(/^canarybot_releases_total\{service="reviews",namespace="bookinfo",cluster="[^"]+",outcome="rolled-back"\} 2$/m);
    expect(metrics).toMatch(/^canarybot_gate_verdicts_total\{service="reviews",[^}]*verdict="fail"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^canarybot_webhook_deliveries_total\{source="alertmanager",event="alert",outcome="refused"\} 1$/m);
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(() => JSON.parse(line), line).not.toThrow();
    for (const secret of [world.gitlab.token, WEBHOOK_SECRET, ALERT_SECRET]) expect([...logs, ...stderr].join('\n')).not.toContain(secret);
    expect(logs.some((line) => (JSON.parse(line) as { releaseId?: string }).releaseId !== undefined)).toBe(true);
  });

  it('stops gracefully on SIGTERM', async () => {
    bot.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);

    expect(code).toBe(0);
    expect(logs.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  }, 20_000);
});
