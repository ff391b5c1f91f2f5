// The end-to-end release through the real `canarybot serve` (child process: webhook intake, BullMQ
// queue, engine, GitLab write-back) on each Redis topology a company runs: one redis-server, a real
// 3-master Redis Cluster and a real Sentinel set (master, replica, three Sentinels), all started by
// the test on free ports. On each: pipeline → canary at 20 % → analysis on the real Prometheus →
// approval asked → Maintainer's `/canary approve` → 100 % → promoted (commit status success, one
// note); then an Alertmanager webhook rolls the next release back to 100 % stable.
// CI runs Cluster and Sentinel (CANARYBOT_E2E_TOPOLOGIES=cluster,sentinel, the default): on one
// redis-server the same two scenarios are release.e2e.test.ts; CANARYBOT_E2E_TOPOLOGIES=standalone,cluster,sentinel
// runs all three here.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { startRedisServer } from '../support/redis-server.js';
import { startRedisCluster, startRedisSentinel } from '../support/redis-topologies.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { commentHook, deploymentState, IMAGE, pipelineHook, PROJECT, progressNotes, ROOT, routeWeights, startWorld, waitUntil, webhookHeaders, type World } from './world.js';

const WEBHOOK_SECRET = 'topology-e2e-webhook-secret';
const ALERT_SECRET = 'topology-e2e-alert-secret';
const NS = 'bookinfo';
const PROMOTED = 'e1f2a3b4c5d60718293a4b5c6d7e8f9012345678';
const ALERTED = 'f2a3b4c5d60718293a4b5c6d7e8f901234567890';

interface Topology {
  name: string;
  /** The REDIS_* variables `serve` gets, and how to stop what was started. */
  start(): Promise<{ env: Record<string, string>; stop(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'standalone',
    async start() {
      const redis = await startRedisServer();
      return { env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
    },
  },
  {
    name: 'cluster',
    async start() {
      const cluster = await startRedisCluster(3);
      return { env: { REDIS_CLUSTER_NODES: cluster.nodes }, stop: () => cluster.stop() };
    },
  },
  {
    name: 'sentinel',
    async start() {
      const sentinel = await startRedisSentinel('canarybot');
      return { env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name }, stop: () => sentinel.stop() };
    },
  },
];
const CHOSEN = (process.env.CANARYBOT_E2E_TOPOLOGIES ?? 'cluster,sentinel').split(',').map((name) => name.trim());

let exporter: IstioExporter;
let prometheus: PrometheusServer;
let alertmanager: AlertmanagerServer;

beforeAll(async () => {
  [exporter, alertmanager] = await Promise.all([startIstioExporter(), startAlertmanager()]);
  exporter.setTraffic('reviews-primary', { namespace: NS, rps: 40 });
  exporter.setTraffic('reviews-canary', { namespace: NS, rps: 40, errorRatio: 0 });
  prometheus = await startPrometheus([exporter.target]);
}, 90_000);

afterAll(async () => {
  await prometheus?.close();
  await alertmanager?.close();
  await exporter?.close();
});

describe.each(TOPOLOGIES.filter((t) => CHOSEN.includes(t.name)))('canarybot serve on Redis $name', (topology) => {
  let redis: { env: Record<string, string>; stop(): Promise<void> };
  let world: World;
  let serve: ServeHarness;

  beforeAll(async () => {
    [redis, world] = await Promise.all([topology.start(), startWorld()]);
    serve = await startServeHarness({
      env: {
        ...redis.env,
        GITLAB_URL: world.gitlab.url,
        GITLAB_TOKEN: world.gitlab.token,
        GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        ALERT_WEBHOOK_SECRET: ALERT_SECRET,
        KUBECONFIG: world.kubeconfig,
        PIPELINES_DIR: world.pipelinesDir,
        PROMETHEUS_URL: prometheus.url,
        ALERTMANAGER_URL: alertmanager.url,
        PUBLIC_URL: 'https://canarybot.example.com',
      },
      readyTimeoutMs: 90_000,
    });
    await serve.start();
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    await world?.close();
    await redis?.stop();
  });

  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetch(`${serve.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const releaseOf = async (image: string) => {
    const response = await fetch(`${serve.url}/api/releases`, { headers: { authorization: `Bearer ${world.gitlab.token}` } });
    const { releases } = (await response.json()) as { releases: { id: string; state: string; image: string; weights: { stable: number; canary: number } }[] };
    return releases.find((release) => release.image === image);
  };
  const inState = (image: string, states: string[]) =>
    waitUntil(`the release of ${image} on ${topology.name} to be ${states.join('|')}`, async () => {
      const release = await releaseOf(image);
      return release && states.includes(release.state) ? release : null;
    }, 60_000);
  const statusStates = (sha: string) => world.gitlab.statuses(PROJECT, sha).filter((s) => s.name === 'canarybot/reviews').map((s) => s.status);

  it('promotes a healthy canary after a Maintainer approves in the MR', async () => {
    const image = `${IMAGE}:${PROMOTED.slice(0, 8)}`;
    const delivered = await post('/webhooks/gitlab', pipelineHook(PROMOTED, 1), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const waiting = await inState(image, ['awaiting-approval']);
    const weightsWhileWaiting = routeWeights(world);
    await waitUntil('the approval request in the progress note', () => progressNotes(world, 1).find((note) => note.body.includes('/canary approve')), 30_000);
    const approved = await post('/webhooks/gitlab', commentHook(world, 1, '/canary approve', ROOT), webhookHeaders(WEBHOOK_SECRET, 'Note Hook'));
    const done = await inState(image, ['succeeded', 'rolled-back', 'failed', 'aborted', 'superseded']);
    const states = await waitUntil('the commit status to turn green', () => (statusStates(PROMOTED).at(-1) === 'success' ? statusStates(PROMOTED) : null), 30_000);
    await waitUntil('the progress note to say promoted', () => progressNotes(world, 1).find((note) => note.body.includes('promoted')), 30_000);

    expect(delivered.status).toBe(202);
    expect(waiting.weights).toEqual({ stable: 80, canary: 20 });
    expect(weightsWhileWaiting).toEqual({ stable: 80, canary: 20 });
    expect(approved.status).toBe(202);
    expect(done.state).toBe('succeeded');
    expect(deploymentState(world, 'reviews-primary')).toEqual({ image, replicas: 2 });
    expect(deploymentState(world, 'reviews-canary').replicas).toBe(0);
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(new Set(states).size).toBe(states.length);
    expect(progressNotes(world, 1)).toHaveLength(1);
  }, 150_000);

  it('rolls a live release back when Alertmanager reports a matching alert', async () => {
    const image = `${IMAGE}:${ALERTED.slice(0, 8)}`;
    const alert = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as { alerts: { startsAt: string }[] };
    alert.alerts[0]!.startsAt = new Date().toISOString();

    await post('/webhooks/gitlab', pipelineHook(ALERTED, 2), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const live = await inState(image, ['awaiting-approval']);
    const answer = await post('/webhooks/alertmanager', alert, { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` });
    const done = await inState(image, ['succeeded', 'rolled-back', 'failed', 'aborted', 'superseded']);
    await waitUntil('the commit status to turn red', () => statusStates(ALERTED).at(-1) === 'failed', 30_000);

    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ aborted: [live.id] });
    expect(done.state).toBe('rolled-back');
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(deploymentState(world, 'reviews-canary').replicas).toBe(0);
    expect(deploymentState(world, 'reviews-primary').image).toBe(`${IMAGE}:${PROMOTED.slice(0, 8)}`);
  }, 150_000);
});
