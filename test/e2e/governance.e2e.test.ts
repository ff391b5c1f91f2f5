// Issue 18 through the real `canarybot serve` (webhook intake, BullMQ queue, engine, write-back) on a
// real redis-server with the Kubernetes and GitLab API test servers: a GitLab deploy freeze (the
// project's freeze_periods, read with the bot's token, FREEZE_REFRESH=1s) makes a new release wait to
// start, shown in /api/releases and the MR note; deleting it starts the release; a freeze added
// mid-release holds the weight at the approval's increase; an abort still rolls back. A second
// definition with a deny window in force waits with the window's sentence.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { NS } from '../mesh/fixtures.js';
import { PROJECT, ROOT, pipelineHook, routeWeights, seedNamespace, startWorld, waitUntil, webhookHeaders, type World, reviewsDefinition } from './world.js';

const SECRET = 'governance-webhook-secret';
const API_TOKEN = 'glpat-governance-root';
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

function definitionYaml(name: string, ns: string, extra = ''): string {
  return reviewsDefinition({
    name,
    namespace: ns,
    steps: ['setWeight: 20', 'approval: {}', 'setWeight: 60', 'setWeight: 100'],
    spec: `  approvals:\n    minAccessLevel: maintainer\n${extra}`,
  });
}

interface ApiRelease { id: string; service: string; state: string; phase: string; weights: { canary: number }; wait: { kind: string; sentence: string } | null; step: number }

let world: World;
let redis: RedisServer;
let serve: ServeHarness;

async function gitlabApi(method: 'POST' | 'DELETE', path: string, body?: object): Promise<{ status: number; json: { id?: number } | null }> {
  const response = await fetch(`${world.gitlab.url}/api/v4${path}`, { method, headers: { 'private-token': world.gitlab.token, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, json: response.status === 204 ? null : ((await response.json()) as { id?: number }) };
}

async function releaseOf(service: string): Promise<ApiRelease | undefined> {
  const response = await fetch(`${serve.url}/api/releases?service=${service}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const [summary] = ((await response.json()) as { releases: { id: string }[] }).releases;
  if (!summary) return undefined;
  const detail = await fetch(`${serve.url}/api/releases/${summary.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  return (await detail.json()) as ApiRelease;
}

async function command(id: string, body: object): Promise<number> {
  const response = await fetch(`${serve.url}/api/releases/${id}/commands`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.status;
}

beforeAll(async () => {
  [world, redis] = await Promise.all([startWorld(), startRedisServer()]);
  world.gitlab.seed({ tokens: [{ token: API_TOKEN, userId: ROOT.id }] });
  seedNamespace(world, 'bookinfo-b');
  world.kube.clearRecord();
  writeFileSync(join(world.pipelinesDir, 'reviews.yaml'), definitionYaml('reviews', NS));
  writeFileSync(join(world.pipelinesDir, 'reviews-b.yaml'), definitionYaml('reviews-b', 'bookinfo-b', '  windows:\n    - deny: "* * * * *"\n      duration: 2h\n      timezone: Europe/Berlin\n'));
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      FREEZE_REFRESH: '1s',
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await world?.close();
  await redis?.stop();
});

describe('freezes and windows through canarybot serve', () => {
  it('waits on a GitLab freeze, starts when it is deleted, is held by one added mid-release, and still rolls back', { timeout: 180_000 }, async () => {
    const freeze = await gitlabApi('POST', `/projects/${PROJECT}/freeze_periods`, { freeze_start: '* * * * *', freeze_end: '0 0 1 1 *', cron_timezone: 'UTC' });
    const hook = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Pipeline Hook'), body: JSON.stringify(pipelineHook(SHA, 1)) });
    expect(hook.status).toBeLessThan(300);

    const waiting = await waitUntil('reviews waiting on the freeze', async () => ((await releaseOf('reviews'))?.wait?.kind === 'freeze' ? releaseOf('reviews') : null), 60_000);
    expect([waiting!.state, waiting!.phase]).toEqual(['pending', 'window']);
    expect(waiting!.wait!.sentence).toMatch(/^Waiting to start: a GitLab deploy freeze \(from "\* \* \* \* \*" to "0 0 1 1 \*", UTC\) is in force\. It can start at /);
    await waitUntil('the wait in the MR note', () => world.gitlab.notes(PROJECT, 1).find((note) => note.body.includes('Waiting to start: a GitLab deploy freeze')), 30_000);
    expect(routeWeights(world).canary ?? 0).toBe(0);

    await gitlabApi('DELETE', `/projects/${PROJECT}/freeze_periods/${freeze.json!.id}`);
    const started = await waitUntil('reviews to start and await approval', async () => {
      const release = await releaseOf('reviews');
      return release?.state === 'awaiting-approval' ? release : null;
    }, 60_000);
    expect(routeWeights(world)).toMatchObject({ stable: 80, canary: 20 });

    // The other definition: the freeze is gone, its deny window is not.
    const windowed = await waitUntil('reviews-b waiting on its deny window', async () => {
      const release = await releaseOf('reviews-b');
      return release?.wait?.kind === 'window' ? release : null;
    }, 60_000);
    expect(windowed.wait!.sentence).toMatch(/^Waiting to start: the deny window "\* \* \* \* \*" for 2h \(Europe\/Berlin\) is in force\. It can start at /);

    await gitlabApi('POST', `/projects/${PROJECT}/freeze_periods`, { freeze_start: '* * * * *', freeze_end: '0 0 1 1 *', cron_timezone: 'UTC' });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await command(started.id, { command: 'approve', step: started.step })).toBe(200);
    const held = await waitUntil('reviews held by the new freeze', async () => {
      const release = await releaseOf('reviews');
      return release?.wait?.kind === 'freeze' && release.state === 'progressing' ? release : null;
    }, 60_000);
    expect(held.weights.canary).toBe(20);
    expect(held.wait!.sentence).toContain('Holding at canary 20 % (no increase, no promotion; analysis and alerts go on, and a rollback is always allowed)');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(routeWeights(world)).toMatchObject({ stable: 80, canary: 20 });

    expect(await command(started.id, { command: 'abort', reason: 'not during the freeze' })).toBe(200);
    const ended = await waitUntil('reviews rolled back', async () => {
      const release = await releaseOf('reviews');
      return release?.state === 'aborted' ? release : null;
    }, 60_000);
    expect(ended.weights.canary).toBe(0);
    expect(routeWeights(world).canary ?? 0).toBe(0);
  });
});
