// Issue 19 across replicas: two `canarybot serve` processes on one real redis-server. Replica A
// drives the train (it was the only one when the train started); Alertmanager's webhook reaches
// replica B. The alert must roll the whole train back — while A lives (A decides it from the run's
// inbox), and when A is SIGKILLed right after B answered the webhook (B takes the run over and
// decides it). Every VirtualService write is checked by the mesh invariants.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TRAIN_NAME, TRAIN_SERVICES, trainImage, trainKubeSeed, trainMemberDefinition } from '../../src/demo/bookinfo-train.js';
import { waitUntil, webhookHeaders } from '../e2e/world.js';
import { startAlertmanager, type AlertmanagerServer } from '../support/alertmanager.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { MeshWatch } from '../support/train-mesh-watch.js';
import { canaryReplicas, newestTrainRun, seedTrainGitLab, trainCommentHook, trainYaml } from '../support/train-world.js';

const SECRET = 'train-replicas-secret';
const ALERT_SECRET = 'train-replicas-alert-secret';

let kube: KubeApiServer;
let gitlab: GitLabApiServer;
let redis: RedisServer;
let alertmanager: AlertmanagerServer;
let reader: Redis;
let driver: ServeHarness;
let other: ServeHarness;
let watch: MeshWatch;
let dir: string;

beforeAll(async () => {
  [kube, gitlab, redis, alertmanager] = await Promise.all([
    KubeApiServer.start({ rolloutDelayMs: 300, tls: false }),
    startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' } }),
    startRedisServer(),
    startAlertmanager(),
  ]);
  for (const object of trainKubeSeed()) kube.seed(object);
  watch = new MeshWatch(kube);
  seedTrainGitLab(gitlab);
  dir = mkdtempSync(join(tmpdir(), 'canarybot-train-replicas-'));
  for (const service of TRAIN_SERVICES) {
    writeFileSync(join(dir, `${service}.yaml`), `${trainMemberDefinition(service)}  alerts:\n    - alertmanager: { matchers: ['service="${service}"', 'severity="critical"'] }\n`);
  }
  writeFileSync(join(dir, 'train.yaml'), trainYaml('    - approval: {}'));
  reader = new Redis(redis.url);
  const env = {
    REDIS_URL: redis.url,
    GITLAB_URL: gitlab.url,
    GITLAB_TOKEN: gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]),
    PIPELINES_DIR: dir,
    // The members' spec.alerts need it; the train has no analysis step, so it is not polled here.
    ALERTMANAGER_URL: alertmanager.url,
  };
  [driver, other] = await Promise.all([startServeHarness({ env }), startServeHarness({ env })]);
  await driver.start();
}, 120_000);

afterAll(async () => {
  await Promise.all([driver?.stop(), other?.stop()]);
  reader?.disconnect();
  await Promise.all([redis?.stop(), gitlab?.close(), kube?.close(), alertmanager?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function comment(to: ServeHarness, text: string): Promise<void> {
  const response = await fetch(`${to.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Note Hook'), body: JSON.stringify(trainCommentHook(gitlab, text)) });
  expect(response.status).toBeLessThan(300);
}

/** Alertmanager's webhook with reviews' error alert firing (a fresh one each time). */
async function fireReviewsAlert(to: ServeHarness): Promise<number> {
  const payload = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as { alerts: { startsAt: string }[] };
  payload.alerts[0]!.startsAt = new Date().toISOString();
  const response = await fetch(`${to.url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` },
    body: JSON.stringify(payload),
  });
  return response.status;
}

const newestRun = (): Promise<TrainRun | null> => newestTrainRun(reader);

async function startAwaitingApproval(tag: string): Promise<TrainRun> {
  await comment(driver, `/canary train start ${TRAIN_NAME} productpage=${tag} reviews=${tag} ratings=${tag}`);
  return waitUntil(`the ${tag} train to await its approval`, async () => {
    const run = await newestRun();
    return run?.state === 'awaiting-approval' && run.members[0]?.image === trainImage('productpage', tag) ? run : null;
  }, 60_000);
}

async function ended(id: string): Promise<TrainRun> {
  return waitUntil('the train to end', async () => {
    const run = await newestRun();
    return run?.id === id && !['awaiting-approval', 'rolling-back'].includes(run.state) ? run : null;
  }, 60_000);
}

const replicas = (service: string): number => canaryReplicas(kube, service);

function expectRolledBackInOrder(run: TrainRun, from: number): void {
  expect(run.state).toBe('rolled-back');
  expect(run.reason).toBe('alert ReviewsHighErrorRate is firing for reviews');
  expect(watch.violations).toEqual([]);
  expect(watch.events.slice(from).filter((event) => event.startsWith('entry') || event.includes('lane route removed') || event.includes('scaled to 0'))).toEqual([
    'entry closed',
    'reviews lane route removed',
    'ratings lane route removed',
    'productpage canary scaled to 0',
    'reviews canary scaled to 0',
    'ratings canary scaled to 0',
  ]);
  for (const service of TRAIN_SERVICES) expect(replicas(service)).toBe(0);
}

describe('an alert received by another replica rolls the train back', () => {
  it('while the driving replica lives: it decides the alert from the run inbox', { timeout: 120_000 }, async () => {
    const run = await startAwaitingApproval('v2');
    await other.start();
    const from = watch.events.length;

    expect(await fireReviewsAlert(other)).toBe(202);

    const done = await ended(run.id);
    expectRolledBackInOrder(done, from);
    // The driver decided it: nobody had to take the run over.
    expect(done.audit.map((entry) => entry.action)).not.toContain('resumed');
  });

  it('when the driving replica is SIGKILLed right after the other replica answered the webhook: the replica taking the run over decides it', { timeout: 120_000 }, async () => {
    // Only A is up when the train starts, so A drives it.
    await other.stop();
    const run = await startAwaitingApproval('v3');
    await other.start();
    const from = watch.events.length;

    expect(await fireReviewsAlert(other)).toBe(202);
    await driver.kill();

    expectRolledBackInOrder(await ended(run.id), from);
  });
});
