// Issue 19, durability: a release train run survives `canarybot serve` being SIGKILLed. The run is
// kept in a real redis-server; the restarted process takes it over once the dead one's lease lapses
// and asks again for what was outstanding. A train killed while its canaries deploy goes on to
// promote (lane routes only after every canary is ready, entry last); a train killed while rolling
// back finishes the rollback in order. The mesh invariants are checked on every VirtualService write.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TRAIN_NAME, TRAIN_NAMESPACE, TRAIN_SERVICES, trainImage, trainKubeSeed, trainMemberDefinition } from '../../src/demo/bookinfo-train.js';
import { waitUntil, webhookHeaders } from '../e2e/world.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { MeshWatch } from '../support/train-mesh-watch.js';
import { canaryReplicas, newestTrainRun, seedTrainGitLab, stableImage, trainCommentHook, trainYaml, TRAIN_PREFIX as PREFIX } from '../support/train-world.js';

const SECRET = 'train-restart-secret';

let kube: KubeApiServer;
let gitlab: GitLabApiServer;
let redis: RedisServer;
let reader: Redis;
let serve: ServeHarness;
let watch: MeshWatch;
let dir: string;

beforeAll(async () => {
  [kube, gitlab, redis] = await Promise.all([
    KubeApiServer.start({ rolloutDelayMs: 1_500, tls: false }),
    startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' } }),
    startRedisServer(),
  ]);
  for (const object of trainKubeSeed()) kube.seed(object);
  watch = new MeshWatch(kube);
  seedTrainGitLab(gitlab);
  dir = mkdtempSync(join(tmpdir(), 'canarybot-train-restart-'));
  // Readiness within 12 s, so a canary that never becomes ready rolls the train back soon.
  for (const service of TRAIN_SERVICES) writeFileSync(join(dir, `${service}.yaml`), trainMemberDefinition(service).replace('readinessDeadline: 30s', 'readinessDeadline: 12s'));
  writeFileSync(join(dir, 'train.yaml'), trainYaml('    - pause: { duration: 4s }'));
  reader = new Redis(redis.url);
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]),
      PIPELINES_DIR: dir,
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  reader?.disconnect();
  await Promise.all([redis?.stop(), gitlab?.close(), kube?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function comment(text: string): Promise<void> {
  const response = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Note Hook'), body: JSON.stringify(trainCommentHook(gitlab, text)) });
  expect(response.status).toBeLessThan(300);
}

const newestRun = (): Promise<TrainRun | null> => newestTrainRun(reader);

const replicas = (service: string): number => canaryReplicas(kube, service);
const laneRoutes = (): string[] =>
  TRAIN_SERVICES.flatMap((service) =>
    (((kube.object('VirtualService', TRAIN_NAMESPACE, service)?.spec ?? {}) as { http?: Array<{ name?: string }> }).http ?? []).map((route) => route.name ?? '').filter((name) => name.endsWith('-lane')),
  );

describe('a release train survives canarybot serve being killed', () => {
  it('killed while the canaries deploy: the restarted bot takes the run over and promotes the train, entry opened only after every canary is ready', { timeout: 180_000 }, async () => {
    const from = watch.events.length;
    await comment(`/canary train start ${TRAIN_NAME} productpage=v2 reviews=v2 ratings=v2`);
    const deploying = await waitUntil('the canaries to deploy', async () => ((await newestRun())?.state === 'deploying' ? await newestRun() : null), 60_000);

    await serve.kill();
    await serve.start();
    const ended = await waitUntil('the train to end', async () => {
      const run = await newestRun();
      return run && run.id === deploying?.id && ['succeeded', 'rolled-back', 'aborted', 'failed'].includes(run.state) ? run : null;
    }, 120_000);

    expect(ended.state).toBe('succeeded');
    expect(ended.audit.map((entry) => entry.action)).toContain('resumed');
    expect(ended.audit.filter((entry) => entry.action === 'member-promoted').map((entry) => entry.detail?.split(' ')[0])).toEqual(['ratings', 'reviews', 'productpage']);
    expect(watch.violations).toEqual([]);
    const events = watch.events.slice(from);
    expect(events.slice(0, 3).sort()).toEqual(['productpage canary ready', 'ratings canary ready', 'reviews canary ready']);
    expect(events.slice(3)).toEqual([
      'reviews lane route',
      'ratings lane route',
      'entry open',
      'entry closed',
      'reviews lane route removed',
      'ratings lane route removed',
      'productpage canary scaled to 0',
      'reviews canary scaled to 0',
      'ratings canary scaled to 0',
    ]);
    for (const service of TRAIN_SERVICES) expect(stableImage(kube, service)).toBe(trainImage(service, 'v2'));
    expect(await reader.smembers(`${PREFIX}:train:live`)).toEqual([]);
  });

  it('killed while rolling back: the restarted bot finishes the rollback in order and leaves no lane route or canary behind', { timeout: 180_000 }, async () => {
    // ratings' canary never becomes ready: past its readiness deadline the whole train rolls back.
    kube.failRollouts(TRAIN_NAMESPACE, 'ratings-canary');
    const from = watch.events.length;
    await comment(`/canary train start ${TRAIN_NAME} productpage=v3 reviews=v3 ratings=v3`);
    await waitUntil('the v3 train to deploy', async () => {
      const run = await newestRun();
      return run?.state === 'deploying' && run.members[0]?.image === trainImage('productpage', 'v3');
    }, 60_000);
    // Every Kubernetes call slow, so the kill lands inside the rollback.
    kube.faults.latencyMs = 1_500;
    const rolling = await waitUntil('the rollback to begin', async () => {
      const run = await newestRun();
      return run?.state === 'rolling-back' ? run : null;
    }, 60_000);

    await serve.kill();
    kube.faults.latencyMs = 0;
    kube.failRollouts(TRAIN_NAMESPACE, 'ratings-canary', false);
    await serve.start();
    const ended = await waitUntil('the rollback to end', async () => {
      const run = await newestRun();
      return run?.id === rolling.id && run.state !== 'rolling-back' ? run : null;
    }, 120_000);

    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toMatch(/ratings: ensure-canary failed: .*progress deadline|not ready within the readiness deadline/);
    const actions = ended.audit.map((entry) => entry.action);
    expect(actions.indexOf('resumed')).toBeGreaterThan(actions.indexOf('rolling-back'));
    expect(watch.violations).toEqual([]);
    expect(laneRoutes()).toEqual([]);
    for (const service of TRAIN_SERVICES) expect(replicas(service)).toBe(0);
    for (const service of TRAIN_SERVICES) expect(stableImage(kube, service)).toBe(trainImage(service, 'v2'));
    expect(watch.events.slice(from).filter((event) => event.includes('lane route') || event.startsWith('entry'))).toEqual([]);
  });
});
