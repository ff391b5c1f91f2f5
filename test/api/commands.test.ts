// Commands over HTTP on the whole bot (createBot with the Kubernetes and GitLab API test servers and
// a private redis-server): the caller is the GitLab user of their token, held to exactly the policy
// of an MR comment — the same refusal sentence GitLab shows in the MR thread — and every command is
// in the release's audit with the channel `api`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Release } from '../../src/core/release.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALICE, commentHook, PROJECT, pipelineHook, ROOT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

const SECRET = 'api-webhook-secret';
const DEV = { id: 12, username: 'dev', name: 'Dev' };
const OUTSIDER = { id: 13, username: 'outsider', name: 'Outsider' };
const TOKENS = { root: 'glpat-root-token', alice: 'glpat-alice-token', dev: 'oauth-dev-token', outsider: 'glpat-outsider' };

let world: World;
let redis: RedisServer;
let bot: Bot;
let waiting: Release;

beforeAll(async () => {
  world = await startWorld();
  world.gitlab.seed({
    users: [DEV, OUTSIDER],
    members: [{ projectId: PROJECT, userId: DEV.id, accessLevel: 30 }],
    tokens: [
      { token: TOKENS.root, userId: ROOT.id },
      { token: TOKENS.alice, userId: ALICE.id },
      { token: TOKENS.dev, userId: DEV.id, kind: 'oauth', scopes: ['read_user'] },
      { token: TOKENS.outsider, userId: OUTSIDER.id },
    ],
  });
  redis = await startRedisServer();
  const config = loadConfig({
    REDIS_URL: redis.url,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
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
  await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Pipeline Hook'), payload: pipelineHook('9f8e7d6c5b4a39281706f5e4d3c2b1a098765432', 2) });
  waiting = await waitUntil('the release to await approval', async () => {
    const [release] = await bot.engine.list({ state: 'live' });
    return release?.state === 'awaiting-approval' ? release : null;
  });
}, 60_000);

afterAll(async () => {
  await bot?.close();
  await redis?.stop();
  await world?.close();
});

async function command(token: string, id: string, body: object) {
  const response = await bot.app.inject({ method: 'POST', url: `/api/releases/${id}/commands`, headers: { authorization: `Bearer ${token}` }, payload: body });
  return { status: response.statusCode, body: response.json() as { ok: boolean | null; message: string; releaseId: string; error?: string } };
}

async function me(token: string, release?: string) {
  const response = await bot.app.inject({ method: 'GET', url: `/api/me${release ? `?release=${release}` : ''}`, headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json() as { user: { username: string }; releases: { id: string; commands: Record<string, { allowed: boolean; applicable: boolean; reason?: string }> }[] } };
}

describe('GET /api/me', () => {
  it('names the user and, per release, what they may do now', async () => {
    const root = await me(TOKENS.root);
    const alice = await me(TOKENS.alice);
    const dev = await me(TOKENS.dev, waiting.id);

    expect(root.status).toBe(200);
    expect(root.body.user).toEqual({ id: ROOT.id, username: 'root', name: 'Administrator' });
    const rootView = root.body.releases.find((r) => r.id === waiting.id);
    expect(rootView?.commands.approve).toEqual({ allowed: true, applicable: true });
    expect(rootView?.commands.resume).toEqual({ allowed: true, applicable: false, reason: `Release ${waiting.id} is not paused (it is awaiting-approval).` });
    expect(rootView?.commands['override-freeze']).toEqual({ allowed: true, applicable: true });
    const aliceView = alice.body.releases.find((r) => r.id === waiting.id);
    expect(aliceView?.commands.approve).toEqual({
      allowed: false,
      applicable: true,
      reason: 'Refused by approvals.allowAuthor: @alice wrote this merge request and cannot approve its release.',
    });
    expect(aliceView?.commands.abort).toEqual({ allowed: true, applicable: true });
    expect(dev.body.releases.map((r) => r.id)).toEqual([waiting.id]);
    expect(dev.body.releases[0]?.commands.approve).toMatchObject({ allowed: false, reason: 'Refused by approvals.minAccessLevel: maintainer required, @dev has developer.' });
  });

  it('answers 404 for an unknown release', async () => {
    expect((await me(TOKENS.root, 'nope')).status).toBe(404);
  });
});

describe('POST /api/releases/:id/commands', () => {
  it.each([
    [{}, 'command must be one of approve, promote, abort, pause, resume, retry, override-freeze'],
    [{ command: 'deploy' }, 'command must be one of approve, promote, abort, pause, resume, retry, override-freeze'],
    [{ command: 'override-freeze' }, 'override-freeze needs a reason (it is audited); send {command: "override-freeze", reason}'],
    [{ command: 'override-freeze', reason: '   ' }, 'override-freeze needs a reason (it is audited); send {command: "override-freeze", reason}'],
    [{ command: 'abort', reason: 7 }, 'reason must be a string'],
    [{ command: 'abort', force: true }, 'unknown field "force"; send {command, reason?, step?}'],
  ])('answers 400 with one sentence for %j', async (body, error) => {
    const response = await command(TOKENS.root, waiting.id, body);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error });
  });

  it('answers 404 for an unknown release', async () => {
    const response = await command(TOKENS.root, 'no-such-release', { command: 'abort' });

    expect(response).toEqual({ status: 404, body: { error: 'There is no release no-such-release.' } });
  });

  it('refuses the MR author with the sentence the MR thread gets for the same comment, and audits both', async () => {
    const api = await command(TOKENS.alice, waiting.id, { command: 'approve' });
    await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Note Hook'), payload: commentHook(world, 2, '/canary approve', ALICE) });
    const threadReply = await waitUntil('the refusal in the MR thread', () =>
      world.gitlab.notes(PROJECT, 2).find((note) => note.body.startsWith('⛔') && note.body.includes('allowAuthor')),
    );
    const release = await waitUntil('both refusals in the audit', async () => {
      const stored = await bot.engine.get(waiting.id);
      return stored && stored.audit.filter((entry) => entry.action === 'refused' && entry.actor?.username === 'alice').length === 2 ? stored : null;
    });

    expect(api.status).toBe(403);
    expect(api.body).toEqual({ ok: false, message: 'Refused by approvals.allowAuthor: @alice wrote this merge request and cannot approve its release.', releaseId: waiting.id });
    expect(threadReply.body).toBe(`⛔ ${api.body.message}`);
    expect(release.state).toBe('awaiting-approval');
    expect(release.audit.filter((entry) => entry.action === 'refused' && entry.actor?.username === 'alice')).toEqual(
      ['api', 'gitlab'].map((channel) => expect.objectContaining({ actor: { username: 'alice', userId: ALICE.id, channel }, detail: `approve: ${api.body.message}` })),
    );
  });

  it('refuses a Developer and a non-member by the policy (403)', async () => {
    const dev = await command(TOKENS.dev, waiting.id, { command: 'promote' });
    const outsider = await command(TOKENS.outsider, waiting.id, { command: 'abort' });

    expect(dev).toEqual({ status: 403, body: { ok: false, message: 'Refused by approvals.minAccessLevel: maintainer required, @dev has developer.', releaseId: waiting.id } });
    expect(outsider.status).toBe(403);
    expect(outsider.body.message).toBe('Refused by @outsider is not a member of the project, so cannot abort releases.');
  });

  it("refuses a Developer's /canary override-freeze in the MR thread with the policy's sentence, audits it and changes nothing else", async () => {
    const before = await bot.engine.get(waiting.id);
    await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Note Hook'), payload: commentHook(world, 2, '/canary override-freeze hotfix for INC-7', DEV) });
    const threadReply = await waitUntil('the refusal in the MR thread', () =>
      world.gitlab.notes(PROJECT, 2).find((note) => note.body.startsWith('⛔') && note.body.includes('@dev')),
    );
    const after = await waitUntil('the refusal in the audit', async () => {
      const release = await bot.engine.get(waiting.id);
      return release?.audit.some((entry) => entry.action === 'refused' && entry.detail?.startsWith('override-freeze')) ? release : null;
    });

    expect(threadReply.body).toBe('⛔ Refused by approvals.minAccessLevel: maintainer required, @dev has developer.');
    expect(after?.audit.at(-1)).toMatchObject({
      actor: { username: 'dev', channel: 'gitlab' },
      action: 'refused',
      detail: 'override-freeze: Refused by approvals.minAccessLevel: maintainer required, @dev has developer.',
    });
    expect(after?.freezeOverride ?? null).toBeNull();
    const { audit: auditAfter, version: _v1, updatedAt: _u1, ...restAfter } = after!;
    const { audit: auditBefore, version: _v2, updatedAt: _u2, ...restBefore } = before!;
    expect(restAfter).toEqual(restBefore);
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(auditAfter).toHaveLength(auditBefore.length + 1);
  });

  it('lets a Maintainer override freezes over the API (audited with the reason and the channel api), once; a Developer is refused', async () => {
    const dev = await command(TOKENS.dev, waiting.id, { command: 'override-freeze', reason: 'hotfix for INC-7' });
    const root = await command(TOKENS.root, waiting.id, { command: 'override-freeze', reason: 'hotfix for INC-7' });
    const again = await command(TOKENS.root, waiting.id, { command: 'override-freeze', reason: 'twice' });
    const release = await bot.engine.get(waiting.id);
    const rootNow = (await me(TOKENS.root, waiting.id)).body.releases[0]?.commands['override-freeze'];

    expect(dev).toEqual({ status: 403, body: { ok: false, message: 'Refused by approvals.minAccessLevel: maintainer required, @dev has developer.', releaseId: waiting.id } });
    expect(root).toEqual({ status: 200, body: { ok: true, message: `Freezes and deny windows no longer hold reviews (release ${waiting.id}); audited: hotfix for INC-7.`, releaseId: waiting.id } });
    expect(again).toEqual({ status: 409, body: { ok: false, message: `Release ${waiting.id} already overrides freezes (by @root: hotfix for INC-7).`, releaseId: waiting.id } });
    expect(release?.freezeOverride).toMatchObject({ actor: { username: 'root', userId: ROOT.id, channel: 'api' }, reason: 'hotfix for INC-7' });
    expect(release?.audit.find((entry) => entry.action === 'override-freeze')).toMatchObject({ actor: { username: 'root', channel: 'api' }, detail: 'by @root: hotfix for INC-7' });
    expect(release?.state).toBe('awaiting-approval');
    expect(rootNow).toMatchObject({ allowed: true, applicable: false });
  });

  it("answers 409 with the core's sentence when the release is not in a state for it", async () => {
    const response = await command(TOKENS.root, waiting.id, { command: 'resume' });

    expect(response).toEqual({ status: 409, body: { ok: false, message: `Release ${waiting.id} is not paused (it is awaiting-approval).`, releaseId: waiting.id } });
  });

  it('refuses an approval bound to a step the release has left', async () => {
    const response = await command(TOKENS.root, waiting.id, { command: 'approve', step: waiting.stepIndex - 1 });

    expect(response.status).toBe(409);
    expect(response.body.message).toBe(`This approval was for step ${waiting.stepIndex}, the release is on step ${waiting.stepIndex + 1}; approve again if you mean it.`);
  });

  it('lets a Maintainer approve: the release moves on to promotion, audited with the channel api', async () => {
    const response = await command(TOKENS.root, waiting.id, { command: 'approve', step: waiting.stepIndex });
    const ended = await waitUntil('the release to end', async () => {
      const release = await bot.engine.get(waiting.id);
      return release?.endedAt ? release : null;
    }, 30_000);

    expect(response).toEqual({ status: 200, body: { ok: true, message: `Approved step ${waiting.stepIndex + 1} of reviews (${waiting.image}); moving on.`, releaseId: waiting.id } });
    expect(ended.state).toBe('succeeded');
    expect(ended.approvals).toEqual([expect.objectContaining({ actor: { username: 'root', userId: ROOT.id, channel: 'api' } })]);
    expect(ended.audit.find((entry) => entry.action === 'approved')).toMatchObject({ actor: { username: 'root', channel: 'api' } });
    expect(ended.audit.filter((entry) => entry.action === 'refused' && entry.actor?.channel === 'api').map((entry) => entry.actor?.username)).toEqual(['alice', 'dev', 'outsider', 'dev', 'root', 'root', 'root']);
  });

  it('asks GitLab who the token is once per cache time, not per request', async () => {
    world.gitlab.clearCalls();
    await me(TOKENS.root);
    await me(TOKENS.root);
    await command(TOKENS.root, waiting.id, { command: 'pause' });

    expect(world.gitlab.callsTo('GET /user')).toHaveLength(0);
    world.gitlab.assertNoUnexpectedCalls();
  });
});
