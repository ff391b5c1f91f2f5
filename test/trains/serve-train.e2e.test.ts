// `/canary train start` through the whole bot (createBot with the Kubernetes and GitLab API test
// servers and a private redis-server): a maintainer's comment on a member's MR starts the train with
// the bot's real adapters, a developer is refused by the members' approvals policy, and a firing
// Alertmanager alert on one member rolls the whole train back.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TRAIN_DEFINITION, TRAIN_NAME, TRAIN_NAMESPACE, TRAIN_SERVICES, trainImage, trainKubeSeed, trainMemberDefinition } from '../../src/demo/bookinfo-train.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { waitUntil, webhookHeaders } from '../e2e/world.js';
import { fixture } from '../gitlab/helpers.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { seedTrainGitLab, trainCommentHook, TRAIN_DEV as DEV, TRAIN_ENTRY as ENTRY, TRAIN_PROJECTS as PROJECTS, TRAIN_ROOT as ROOT, type TrainPerson } from '../support/train-world.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

const SECRET = 'train-webhook-secret';
const ALERT_SECRET = 'train-alert-secret';
const TOKENS = { root: 'glpat-root-train', dev: 'glpat-dev-train' };

let kube: KubeApiServer;
let gitlab: GitLabApiServer;
let redis: RedisServer;
let bot: Bot;
let dir: string;

/** A member with alert matchers on its service and a maintainer-only policy. */
function member(service: string): string {
  return `${trainMemberDefinition(service)}  alerts:
    - alertmanager: { matchers: ['service="${service}"', 'severity="critical"'] }
  approvals:
    minAccessLevel: maintainer
`;
}

beforeAll(async () => {
  [kube, gitlab, redis] = await Promise.all([KubeApiServer.start({ rolloutDelayMs: 100, tls: false }), startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' } }), startRedisServer()]);
  for (const object of trainKubeSeed()) kube.seed(object);
  seedTrainGitLab(gitlab, {
    developers: true,
    tokens: [
      { token: TOKENS.root, userId: ROOT.id },
      { token: TOKENS.dev, userId: DEV.id },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'canarybot-serve-train-'));
  for (const service of TRAIN_SERVICES) writeFileSync(join(dir, `${service}.yaml`), member(service));
  writeFileSync(join(dir, 'train.yaml'), TRAIN_DEFINITION);
  const config = loadConfig({
    REDIS_URL: redis.url,
    GITLAB_URL: gitlab.url,
    GITLAB_TOKEN: gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]),
    PIPELINES_DIR: dir,
    PUBLIC_URL: 'https://canarybot.example.com',
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, { metricProvider: healthy, alertGate: quietAlertmanager, writebackPollMs: 50 });
  await bot.start();
  reader = new Redis(redis.url);
}, 60_000);

let reader: Redis;
const redisKeys = (pattern: string): Promise<string[]> => reader.keys(pattern);
async function assemblyMembers(): Promise<string[]> {
  const [key] = await redisKeys('*:train:assembly:*');
  return key ? Object.keys(JSON.parse((await reader.get(key)) ?? '{}') as object) : [];
}

afterAll(async () => {
  reader?.disconnect();
  await bot?.close();
  await Promise.all([redis?.stop(), gitlab?.close(), kube?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A comment on productpage's MR 1, delivered as GitLab's Note Hook. */
async function comment(text: string, author: TrainPerson): Promise<void> {
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Note Hook'), payload: trainCommentHook(gitlab, text, author) });
  expect(response.statusCode).toBeLessThan(300);
}

/** A successful pipeline of a member's project on main, as GitLab's Pipeline Hook; the image tag is the short sha. */
async function pipeline(service: keyof typeof PROJECTS, sha: string): Promise<void> {
  const hook = fixture('pipeline-success');
  hook.object_attributes = { ...hook.object_attributes, id: Number.parseInt(sha.slice(0, 7), 16), sha, before_sha: sha, ref: 'main' };
  hook.commit = { ...hook.commit, id: sha };
  hook.project = { ...hook.project, id: PROJECTS[service], path_with_namespace: `bookinfo/${service}` };
  hook.merge_request = null;
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Pipeline Hook'), payload: hook });
  expect(response.statusCode).toBeLessThan(300);
}

const botReply = (containing: string) => waitUntil(`a reply containing "${containing}"`, () => gitlab.notes(ENTRY.id, 1).find((note) => note.body.includes(containing)), 30_000);

const canaryReplicas = (service: string): number =>
  ((kube.object('Deployment', TRAIN_NAMESPACE, `${service}-canary`)?.spec ?? {}) as { replicas?: number }).replicas ?? 0;

describe('canarybot serve starts a release train', () => {
  it('refuses the MR author by the members approvals policy (as for approve) and starts nothing', async () => {
    await comment(`/canary train start ${TRAIN_NAME} productpage=v2`, DEV);

    const reply = await botReply('Refused for productpage');

    expect(reply.body).toContain('Refused for productpage: approvals.allowAuthor: @dev wrote this merge request');
    expect(bot.trains.list()).toEqual([]);
  }, 40_000);

  it('starts on a maintainer comment with the tags as images (ratings rides on stable); a firing alert on reviews rolls the whole train back', async () => {
    await comment(`/canary train start ${TRAIN_NAME} productpage=v2 reviews=v2`, ROOT);

    const reply = await botReply(`Train ${TRAIN_NAME} started`);
    const run = bot.trains.list()[0]!;
    expect(reply.body).toContain(`productpage ${trainImage('productpage', 'v2')}, reviews ${trainImage('reviews', 'v2')}, ratings (rides on stable)`);
    expect(run.triggeredBy).toMatchObject({ username: 'root', channel: 'gitlab' });
    expect(run.audit[0]).toMatchObject({ action: 'created', actor: { username: 'root', channel: 'gitlab' } });
    expect(run.members.find((m) => m.name === 'productpage')?.mr).toMatchObject({ projectId: ENTRY.id, iid: 1 });
    await waitUntil('the lane to open', () => ['progressing', 'awaiting-approval'].includes(bot.trains.get(run.id)!.state), 30_000);
    expect(canaryReplicas('reviews')).toBeGreaterThan(0);
    expect(canaryReplicas('ratings')).toBe(0);

    const alert = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as { alerts: { startsAt: string }[] };
    alert.alerts[0]!.startsAt = new Date().toISOString();
    const answer = await bot.app.inject({ method: 'POST', url: '/webhooks/alertmanager', headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` }, payload: alert });
    const ended = await waitUntil('the train to end', () => {
      const current = bot.trains.get(run.id)!;
      return current.state === 'rolled-back' ? current : null;
    }, 30_000);

    expect(answer.statusCode).toBe(202);
    expect(ended.reason).toContain('alert ReviewsHighErrorRate is firing for reviews');
    expect(canaryReplicas('productpage')).toBe(0);
    expect(canaryReplicas('reviews')).toBe(0);
    const lanes = TRAIN_SERVICES.flatMap((service) =>
      (((kube.object('VirtualService', TRAIN_NAMESPACE, service)?.spec ?? {}) as { http?: Array<{ name?: string }> }).http ?? []).filter((route) => route.name?.endsWith('-lane')),
    );
    expect(lanes).toEqual([]);
  }, 60_000);

  it('starts from the members pipelines that succeed within assembleWindow; meanwhile and while it runs, no member is released alone', async () => {
    const before = (await bot.trains.history()).length;
    const sha = { productpage: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', reviews: 'b2c3d4e5f60718293a4b5c6d7e8f9012345678a1', ratings: 'c3d4e5f60718293a4b5c6d7e8f9012345678a1b2' };

    await pipeline('reviews', sha.reviews);
    await pipeline('productpage', sha.productpage);
    await waitUntil('both pipelines in the assembly', async () => (await redisKeys('*:train:assembly:*')).length === 1 && (await assemblyMembers()).length === 2, 30_000);
    expect((await bot.trains.history()).length).toBe(before);

    await pipeline('ratings', sha.ratings);
    const run = await waitUntil('the train to start', async () => ((await bot.trains.history()).length > before ? (await bot.trains.history())[0] : null), 30_000);

    expect(run.members.map((member) => member.image)).toEqual(TRAIN_SERVICES.map((service) => trainImage(service, sha[service].slice(0, 8))));
    expect(run.triggeredBy).toBeNull();
    expect(await assemblyMembers()).toEqual([]);
    await waitUntil('the lane to open', () => ['progressing', 'awaiting-approval'].includes(bot.trains.get(run.id)!.state), 30_000);

    // A member's next pipeline while the train runs joins the next assembly; it is not released alone.
    await pipeline('reviews', 'd4e5f60718293a4b5c6d7e8f9012345678a1b2c3');
    await waitUntil('the pipeline in the next assembly', async () => (await assemblyMembers()).includes('reviews'), 30_000);
    expect(await bot.engine.list({ service: 'reviews' })).toEqual([]);
    expect(await bot.engine.list({ service: 'productpage' })).toEqual([]);
    expect(await bot.engine.list({ service: 'ratings' })).toEqual([]);
  }, 90_000);

  it('reports and acts on the train as one unit: a progress note on the member MR linked to the summary, /api/trains, train status, approve refused by policy and audited, approved over the API', async () => {
    const rolledBack = (await bot.trains.history()).find((run) => run.state === 'rolled-back' && run.members[0]?.mr)!;
    const note = await waitUntil('the member note to show the rollback', () =>
      gitlab.notes(ENTRY.id, 1).find((candidate) => candidate.body.startsWith(`<!-- canarybot:train-member:${rolledBack.id}:productpage -->`) && candidate.body.includes('rolled back')),
    30_000);
    expect(note.body).toContain(`[${rolledBack.id}](https://canarybot.example.com/api/trains/${rolledBack.id}?format=markdown)`);
    expect(note.body).toContain('| 3 | ratings | rides on stable |');
    expect(gitlab.notes(ENTRY.id, 1).filter((candidate) => candidate.body.includes(`canarybot:train-member:${rolledBack.id}:`))).toHaveLength(1);

    const running = (await bot.trains.history()).find((run) => ['progressing', 'awaiting-approval'].includes(run.state))!;
    await waitUntil('the assembled train to wait for its approval', () => bot.trains.get(running.id)?.state === 'awaiting-approval', 30_000);

    await comment(`/canary train approve ${TRAIN_NAME}`, DEV);
    const refused = await botReply('Refused for productpage: approvals.minAccessLevel');
    await comment(`/canary train status ${TRAIN_NAME}`, DEV);
    const status = await botReply(`🚂 train \`${TRAIN_NAME}\` awaiting-approval`);

    expect(refused.body).toMatch(/^⛔ Refused for productpage: approvals.minAccessLevel/);
    expect(status.body).toContain('• ratings `ratings:c3d4e5f6` · canary ready, stable before · last check pass');
    expect(bot.trains.get(running.id)?.state).toBe('awaiting-approval');

    const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: object) =>
      bot.app.inject({ method, url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(payload ? { payload } : {}) });
    expect((await api('GET', '/api/trains')).statusCode).toBe(401);
    const list = (await api('GET', '/api/trains', TOKENS.dev)).json() as { trains: Array<{ id: string; state: string; members: Array<{ name: string; image: string | null }> }> };
    expect(list.trains.map((run) => run.id)).toContain(running.id);
    expect(list.trains.find((run) => run.id === running.id)?.members.map((m) => m.name)).toEqual(['productpage', 'reviews', 'ratings']);
    const markdown = await api('GET', `/api/trains/${running.id}?format=markdown`, TOKENS.dev);
    expect(markdown.body).toContain(`<!-- canarybot:train:${running.id} -->`);
    expect((await api('GET', '/api/trains/nope', TOKENS.dev)).statusCode).toBe(404);
    expect((await api('POST', `/api/trains/${running.id}/commands`, TOKENS.dev, { command: 'approve' })).statusCode).toBe(403);
    expect((await api('POST', `/api/trains/${running.id}/commands`, TOKENS.root, { command: 'launch' })).statusCode).toBe(400);

    const approved = await api('POST', `/api/trains/${running.id}/commands`, TOKENS.root, { command: 'approve' });

    expect(approved.json()).toEqual({ ok: true, message: `Train ${TRAIN_NAME} approved by @root.`, trainRunId: running.id });
    const ended = await bot.trains.whenEnded(running.id);
    expect(ended.state).toBe('succeeded');
    const audit = ended.audit.filter((entry) => entry.action === 'refused' || entry.action === 'approved');
    expect(audit.map((entry) => [entry.action, entry.actor?.username, entry.actor?.channel])).toEqual([
      ['refused', 'dev', 'gitlab'],
      ['refused', 'dev', 'api'],
      ['approved', 'root', 'api'],
    ]);
  }, 120_000);
});
