// Issue 13 proof: every configured secret stays out of everything the bot writes, end to end. The
// real `canarybot serve` (test/support/serve-harness.ts, debug logging) runs with a GitLab token,
// webhook and signing secrets, an alert webhook secret, a Slack signing secret and incoming-webhook
// URL, a Mattermost token and webhook URL, a metrics token, a real redis-server with requirepass,
// and credentials in PROMETHEUS_URL and ALERTMANAGER_URL (a server that answers 500 to every query).
// A release is driven through failures (every check errors → rolled back) and refusals (a
// non-member's comment, an unmapped and a mapped chat user, wrong tokens on every webhook and on the
// API); then none of the secret values (nor their base64 or URL-encoded forms) may appear in the
// process's stdout/stderr, any /api answer, /metrics, /readyz?verbose, MR notes, commit statuses,
// anything else the bot sent GitLab, or a chat message.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/chatops/verify-slack-signature.js';
import { signingKey, signWebhook } from '../../src/gitlab/verify-webhook-signature.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { ALICE, commentHook, pipelineHook, PROJECT, ROOT, startWorld, waitUntil, type World } from './world.js';

const OUTSIDER = { id: 77, username: 'outsider', name: 'Outsider' };
const SHA = '7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b';

const SECRETS = {
  webhookSecret: 'sec-gitlab-webhook-6f1d2c',
  signingSecret: `whsec_${Buffer.from('sec-signing-key-4a7e9b01c3d5f7a9').toString('base64')}`,
  alertSecret: 'sec-alert-webhook-8b2e4f',
  slackSecret: 'sec-slack-signing-1c9a7e',
  mattermostToken: 'secmattermosttoken5d3b8f',
  metricsToken: 'sec-metrics-token-2e8c4a',
  redisPassword: 'sec-redis-password-9f4b1d',
  prometheusPassword: 'sec-prom-password-3a7c5e',
  alertmanagerPassword: 'sec-am-password-6b2d9f',
  slackWebhookPath: 'T0SEC/B0SEC/sec-slack-hook-7e1a3c',
  mattermostWebhookPath: 'sec-mm-hook-4c8e2a',
  apiToken: 'glpat-sec-root-api-5a9d3f',
};

let world: World;
let redis: RedisServer;
let chat: ChatServer;
let serve: ServeHarness;
let failingMetrics: Server;
let dir = '';
/** Everything the bot wrote that a person or a system may read. */
const outputs: { where: string; text: string }[] = [];

beforeAll(async () => {
  [world, redis, chat] = await Promise.all([startWorld(), startRedisServer({ password: SECRETS.redisPassword }), startChatServer()]);
  world.gitlab.seed({ users: [OUTSIDER], tokens: [{ token: SECRETS.apiToken, userId: ROOT.id }] });
  // Prometheus and Alertmanager behind basic auth, both failing: every check errors, with the URL at hand.
  failingMetrics = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream error for ${request.url ?? ''}`));
  });
  await new Promise<void>((resolve) => failingMetrics.listen(0, '127.0.0.1', resolve));
  const metricsPort = (failingMetrics.address() as AddressInfo).port;
  // Notifications to both chats, so their incoming-webhook URLs are used.
  appendFileSync(join(world.pipelinesDir, 'reviews.yaml'), '  notify:\n    slack: { channel: "#releases" }\n    mattermost: { channel: releases }\n');
  dir = mkdtempSync(join(tmpdir(), 'canarybot-secrets-'));
  writeFileSync(join(dir, 'chat-users.yaml'), 'slack: { U1: root }\nmattermost: { mm-alice: alice }\n');
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRETS.webhookSecret,
      GITLAB_WEBHOOK_SIGNING_SECRET: SECRETS.signingSecret,
      ALERT_WEBHOOK_SECRET: SECRETS.alertSecret,
      SLACK_SIGNING_SECRET: SECRETS.slackSecret,
      SLACK_WEBHOOK_URL: `${chat.url}/services/${SECRETS.slackWebhookPath}`,
      MATTERMOST_TOKEN: SECRETS.mattermostToken,
      MATTERMOST_WEBHOOK_URL: `${chat.url}/hooks/${SECRETS.mattermostWebhookPath}`,
      MATTERMOST_URL: chat.url,
      CHAT_USERS_FILE: join(dir, 'chat-users.yaml'),
      METRICS_TOKEN: SECRETS.metricsToken,
      PROMETHEUS_URL: `http://prom-user:${SECRETS.prometheusPassword}@127.0.0.1:${metricsPort}/`,
      ALERTMANAGER_URL: `http://am-user:${SECRETS.alertmanagerPassword}@127.0.0.1:${metricsPort}/`,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PUBLIC_URL: 'https://canarybot.example.com',
      LOG_LEVEL: 'debug',
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await new Promise((resolve) => failingMetrics?.close(resolve));
  await chat?.close();
  await redis?.stop();
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function signedGitLab(event: 'Pipeline Hook' | 'Note Hook', payload: object, token = SECRETS.webhookSecret): RequestInit {
  const body = JSON.stringify(payload);
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-token': token,
      'x-gitlab-event': event,
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': signWebhook(signingKey(SECRETS.signingSecret), id, timestamp, Buffer.from(body)),
    },
    body,
  };
}

function slackCommand(userId: string, text: string, secret = SECRETS.slackSecret): RequestInit {
  const body = new URLSearchParams({ user_id: userId, user_name: userId.toLowerCase(), text, command: '/canary', response_url: `${chat.url}/response/${userId}` }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(secret, timestamp, body) }, body };
}

/** Sends a request and keeps its answer (status line, headers and body) as an output to check. */
async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${serve.url}${path}`, init);
  const text = await response.clone().text();
  outputs.push({ where: `${init.method ?? 'GET'} ${path} → ${response.status}`, text: `${JSON.stringify([...response.headers])}\n${text}` });
  return response;
}

const auth = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

/** Each secret in the forms it could leak in: as is, base64 (basic auth), URL-encoded. */
function secretForms(): { name: string; form: string }[] {
  const values: Record<string, string> = {
    ...SECRETS,
    gitlabToken: world.gitlab.token,
    signingKey: SECRETS.signingSecret.slice('whsec_'.length),
    prometheusBasic: Buffer.from(`prom-user:${SECRETS.prometheusPassword}`).toString('base64'),
    alertmanagerBasic: Buffer.from(`am-user:${SECRETS.alertmanagerPassword}`).toString('base64'),
  };
  return Object.entries(values).flatMap(([name, value]) => [{ name, form: value }, { name: `${name} (URL-encoded)`, form: encodeURIComponent(value) }]);
}

describe('secrets, end to end through canarybot serve', () => {
  it('appear in no log line, API answer, /metrics, /readyz?verbose, MR note, commit status, GitLab write or chat message', { timeout: 300_000 }, async () => {
    // Refusals before anything runs: wrong credentials on every route.
    await call('/webhooks/gitlab', signedGitLab('Pipeline Hook', pipelineHook(SHA, 1), 'wrong-token'));
    await call('/webhooks/alertmanager', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{"alerts":[]}' });
    await call('/webhooks/alerts/bkmonitor?token=wrong', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await call('/chatops/slack', slackCommand('U1', 'status', 'wrong-secret'));
    await call('/chatops/mattermost', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Token wrong' }, body: 'user_id=mm-alice&text=status' });
    await call('/api/releases', auth('glpat-wrong'));
    await call('/metrics', auth('wrong'));

    // The release: every check errors against the failing Prometheus and Alertmanager → rolled back.
    expect((await call('/webhooks/gitlab', signedGitLab('Pipeline Hook', pipelineHook(SHA, 1)))).status).toBe(202);
    const live = await waitUntil('the release to start', async () => {
      const body = (await (await fetch(`${serve.url}/api/releases`, auth(SECRETS.apiToken))).json()) as { releases: { id: string; state: string }[] };
      return body.releases[0];
    }, 60_000);
    // Refusals while it runs: a non-member's comment, an unmapped Slack user, an unknown command, a Mattermost user's abort of another service.
    await call('/webhooks/gitlab', signedGitLab('Note Hook', commentHook(world, 1, '/canary approve', OUTSIDER)));
    await call('/chatops/slack', slackCommand('U9', 'approve reviews'));
    await call('/chatops/slack', slackCommand('U1', 'frobnicate'));
    await call('/chatops/mattermost', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Token ${SECRETS.mattermostToken}` }, body: new URLSearchParams({ user_id: 'mm-alice', text: 'abort ratings', response_url: `${chat.url}/response/mm` }).toString() });
    await call('/webhooks/alertmanager', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.alertSecret}` }, body: JSON.stringify({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'Other', service: 'ratings' }, startsAt: new Date().toISOString() }] }) });
    await call(`/api/releases/${live.id}/commands`, { method: 'POST', headers: { authorization: 'Bearer glpat-wrong', 'content-type': 'application/json' }, body: '{"command":"promote"}' });
    await call('/readyz?verbose');

    const ended = await waitUntil('the release to end', async () => {
      const release = (await (await fetch(`${serve.url}/api/releases/${live.id}`, auth(SECRETS.apiToken))).json()) as { state: string; endedAt?: number | null };
      return ['rolled-back', 'failed', 'aborted'].includes(release.state) ? release : null;
    }, 180_000);
    await waitUntil('the final progress note', () => world.gitlab.notes(PROJECT, 1).find((note) => note.body.startsWith('<!-- canarybot:release:') && /rolled back|failed/i.test(note.body)), 60_000);
    await waitUntil('chat messages', () => chat.posts.length >= 3, 30_000);
    // A Developer's /api promote is refused by the policy after the end, as is a comment on another MR.
    await call(`/api/releases/${live.id}/commands`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.apiToken}`, 'content-type': 'application/json' }, body: '{"command":"retry"}' });
    await call('/webhooks/gitlab', signedGitLab('Note Hook', commentHook(world, 2, '/canary abort', ALICE)));

    // Every read surface, with the right credentials.
    for (const path of ['/api/releases', `/api/releases/${live.id}`, '/api/audit', '/api/me', '/readyz?verbose', '/readyz', '/healthz']) await call(path, auth(SECRETS.apiToken));
    await call('/metrics', auth(SECRETS.metricsToken));
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    for (const iid of [1, 2, 3]) for (const note of world.gitlab.notes(PROJECT, iid)) outputs.push({ where: `MR !${iid} note ${note.id}`, text: note.body });
    for (const status of world.gitlab.statuses(PROJECT, SHA)) outputs.push({ where: `commit status ${status.name}`, text: JSON.stringify(status) });
    for (const call of world.gitlab.calls.filter((c) => c.method !== 'GET')) outputs.push({ where: `GitLab ${call.method} ${call.path}`, text: JSON.stringify(call.body) });
    for (const post of chat.attempts) outputs.push({ where: `chat ${post.path}`, text: JSON.stringify(post.body) });
    outputs.push({ where: 'serve stdout/stderr', text: serve.logs.join('\n') });

    const leaks: string[] = [];
    for (const { name, form } of secretForms()) {
      for (const output of outputs) {
        const at = output.text.indexOf(form);
        if (at >= 0) leaks.push(`${name} in ${output.where}: …${output.text.slice(Math.max(0, at - 120), at + form.length + 40)}…`);
      }
    }
    const checked = { logLines: serve.logs.length, answers: outputs.filter((o) => o.where.includes('→')).length, notes: outputs.filter((o) => o.where.startsWith('MR')).length, chat: chat.attempts.length };
    process.stdout.write(`secrets e2e: release ${ended.state}; ${secretForms().length} secret forms checked in ${JSON.stringify(checked)}; leaks ${leaks.length}\n`);

    expect(ended.state).toBe('rolled-back');
    // The search reads real content: the release id is in the logs, the notes and the API answers.
    expect(outputs.filter((output) => output.text.includes(live.id)).length).toBeGreaterThan(5);
    expect(serve.logs.some((line) => line.includes('"level":"debug"'))).toBe(true);
    expect(chat.attempts.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
