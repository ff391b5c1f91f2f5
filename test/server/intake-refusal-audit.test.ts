// Issue 13: commands refused at intake are audited, not only answered. Through the whole bot (real
// redis-server, GitLab and Kubernetes API test servers, a chat server for response_url) and read back
// from GET /api/audit: a non-member's MR comment on a live release (the release's audit, channel
// gitlab), a comment on an MR with no live release and an unknown command (the intake audit, with the
// MR), and from Slack an unmapped user, an unknown command and a service with no live release.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AlertGate } from '../../src/gates/alertmanager.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { slackSlash } from '../chatops/slash-requests.js';
import { commentHook, pipelineHook, PROJECT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';
import { healthyMetrics as healthy } from '../support/healthy-gates.js';

const SECRET = 'refusal-webhook-secret';
const SLACK_SECRET = 'refusal-slack-signing-secret';
const OUTSIDER = { id: 77, username: 'outsider', name: 'Outsider' };

const quiet: AlertGate = { check: async () => [{ name: 'alert:alertmanager', verdict: 'pass', value: 0, threshold: 'no active matching alert' }] };

let world: World;
let redis: RedisServer;
let chat: ChatServer;
let bot: Bot;
let dir: string;

beforeAll(async () => {
  [world, redis, chat] = await Promise.all([startWorld(), startRedisServer(), startChatServer()]);
  world.gitlab.seed({ users: [OUTSIDER] });
  dir = mkdtempSync(join(tmpdir(), 'canarybot-refusals-'));
  writeFileSync(join(dir, 'chat-users.yaml'), 'slack: { U1: root }\n');
  const config = loadConfig({
    REDIS_URL: redis.url,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    CHAT_USERS_FILE: join(dir, 'chat-users.yaml'),
    API_READ_ANONYMOUS: 'true',
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: world.pipelinesDir,
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, { metricProvider: healthy, alertGate: quiet, writebackPollMs: 50, botUsername: 'canarybot' });
  await bot.start();
}, 60_000);

afterAll(async () => {
  await bot?.close();
  await chat?.close();
  await redis?.stop();
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function comment(iid: number, text: string, author: typeof OUTSIDER): Promise<number> {
  const response = await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Note Hook'), payload: commentHook(world, iid, text, author) });
  return response.statusCode;
}

async function slack(userId: string, text: string): Promise<number> {
  const response = await bot.app.inject(slackSlash(SLACK_SECRET, { user_id: userId, user_name: `${userId.toLowerCase()}.chat`, text, response_url: `${chat.url}/response/${userId}` }));
  return response.statusCode;
}

interface Line { action: string; detail?: string; releaseId: string | null; service: string | null; mr: { projectId: number; iid: number } | null; actor: { username: string | null; channel: string; chatUser?: string } | null }

async function auditRefusals(): Promise<Line[]> {
  const response = await bot.app.inject({ method: 'GET', url: '/api/audit' });
  expect(response.statusCode).toBe(200);
  return response.body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line).filter((line) => line.action === 'refused');
}

describe('commands refused at intake', () => {
  it('are recorded in the audit trail with their channel and sentence, read through /api/audit', { timeout: 120_000 }, async () => {
    const sha = '5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b';
    expect((await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Pipeline Hook'), payload: pipelineHook(sha, 1) })).statusCode).toBe(202);
    const live = await waitUntil('the release to await approval', async () => (await bot.engine.list({ state: 'live' })).find((r) => r.state === 'awaiting-approval'), 60_000);

    expect(await comment(1, '/canary approve', OUTSIDER)).toBe(202);
    expect(await comment(2, '/canary abort', OUTSIDER)).toBe(202);
    expect(await comment(3, '/canary frobnicate @all', OUTSIDER)).toBe(202);
    expect(await slack('U9', 'approve reviews')).toBe(200);
    expect(await slack('U1', 'frobnicate @all')).toBe(200);
    expect(await slack('U1', 'abort ratings')).toBe(200);

    const refusals = await waitUntil('six refusals in the audit', async () => {
      const lines = await auditRefusals();
      return lines.length >= 6 ? lines : null;
    }, 60_000);

    expect(refusals).toHaveLength(6);
    expect(refusals).toEqual(expect.arrayContaining([
      expect.objectContaining({ releaseId: live.id, service: 'reviews', actor: { username: 'outsider', userId: OUTSIDER.id, channel: 'gitlab' }, detail: expect.stringMatching(/^approve: Refused by @outsider is not a member of the project/) as unknown }),
      expect.objectContaining({ releaseId: null, mr: { projectId: PROJECT, iid: 2 }, actor: { username: 'outsider', userId: OUTSIDER.id, channel: 'gitlab' }, detail: 'abort: This merge request has no live canarybot release, so there is nothing to abort.' }),
      expect.objectContaining({ releaseId: null, mr: { projectId: PROJECT, iid: 3 }, actor: expect.objectContaining({ channel: 'gitlab' }) as unknown, detail: expect.stringMatching(/^unknown: /) as unknown }),
      expect.objectContaining({ releaseId: null, service: 'reviews', actor: { username: null, channel: 'slack', chatUser: 'u9.chat (U9)' }, detail: expect.stringMatching(/^approve: Refused: Your slack user U9 is not mapped to a GitLab user/) as unknown }),
      expect.objectContaining({ releaseId: null, actor: { username: null, channel: 'slack', chatUser: 'u1.chat (U1)' }, detail: expect.stringMatching(/^unknown: /) as unknown }),
      expect.objectContaining({ releaseId: null, service: 'ratings', actor: expect.objectContaining({ username: 'root', channel: 'slack' }) as unknown, detail: 'abort: No live release of `ratings`. `/canary list` shows the live releases.' }),
    ]));
    // The audit keeps the sentence, never the user's text.
    expect(JSON.stringify(refusals)).not.toContain('@all');
    // The release did not move, and the refused person was answered with the same sentence.
    expect((await bot.engine.get(live.id))?.state).toBe('awaiting-approval');
    const thread = await waitUntil('the refusal in the MR thread', () => world.gitlab.notes(PROJECT, 1).find((note) => note.body.includes('Refused by @outsider')), 30_000);
    expect(thread.body).toContain('is not a member of the project');
  });
});
