// Issue 13 proof: Redis restarted in the middle of a release under a running `canarybot serve`
// (the real process, a redis-server with an fsynced append-only file as production runs it, the
// Kubernetes and GitLab API test servers). While Redis is down every webhook is answered 503 — never
// a 2xx for a delivery that could be lost — and `/readyz` is 503; after the restart `/readyz` is 200
// again, the redelivered comment is answered once, a Slack `/canary abort` refused during the outage
// ("nothing was changed") never runs later, and the release finishes promoted with each
// traffic step written once, one progress note, no repeated commit status and a final `success`.
// The figures are printed.

import { rmSync, writeFileSync } from 'node:fs';
import { slackSignature } from '../../src/chatops/verify-slack-signature.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { canaryWeightOf, collapse, statusPosts } from './traffic-writes.js';
import { commentHook, PROJECT, pipelineHook, progressNotes, ROOT, routeWeights, startWorld, waitUntil, webhookHeaders, type World, reviewsDefinition } from './world.js';

const SECRET = 'redis-restart-webhook-secret';
const SLACK_SECRET = 'redis-restart-slack-signing-secret';
const SHA = 'f60718293a4b5c6d7e8f9012345678a1b2c3d4e5';
const OUTAGE_MS = Number(process.env.CANARYBOT_REDIS_OUTAGE_MS ?? 6_000);

const DEFINITION = reviewsDefinition({ steps: ['setWeight: 20', 'pause: { duration: 4s }', 'setWeight: 60', 'pause: { duration: 2s }', 'setWeight: 100'] });

let redis: RedisServer;
let world: World;
let serve: ServeHarness;
let chatUsers = '';

beforeAll(async () => {
  [redis, world] = await Promise.all([startRedisServer({ persistent: true }), startWorld()]);
  writeFileSync(join(world.pipelinesDir, 'reviews.yaml'), DEFINITION);
  chatUsers = join(world.pipelinesDir, '..', `canarybot-chat-users-${process.pid}.yaml`);
  writeFileSync(chatUsers, 'slack: { U1: root }\n');
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      CHAT_USERS_FILE: chatUsers,
      PUBLIC_URL: 'https://canarybot.example.com',
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await world?.close();
  await redis?.stop();
  if (chatUsers) rmSync(chatUsers, { force: true });
});

const post = (hook: unknown, event: 'Pipeline Hook' | 'Note Hook', uuid?: string): Promise<Response> =>
  fetch(`${serve.url}/webhooks/gitlab`, {
    method: 'POST',
    headers: { ...webhookHeaders(SECRET, event), ...(uuid ? { 'x-gitlab-webhook-uuid': uuid } : {}) },
    body: JSON.stringify(hook),
    signal: AbortSignal.timeout(20_000),
  });

/** A Slack slash command from U1 (mapped to root, a Maintainer), signed as Slack signs it. */
async function slack(text: string): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams({ token: 'deprecated', team_id: 'T1', channel_id: 'C1', command: '/canary', user_id: 'U1', user_name: 'root', text, response_url: 'https://hooks.slack.com/commands/T1/1/x' }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await fetch(`${serve.url}/chatops/slack`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body) },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, text: await response.text() };
}

describe('Redis restarted under a running serve', () => {
  it('answers 503 while Redis is down, is unready then ready, and the release finishes once', { timeout: 180_000 }, async () => {
    expect((await post(pipelineHook(SHA, 1), 'Pipeline Hook')).status).toBe(202);
    await waitUntil('20 % on the canary', () => routeWeights(world).canary === 20, 60_000);

    await redis.halt();
    const haltedAt = Date.now();
    const answers: number[] = [];
    const readiness: number[] = [];
    const comment = commentHook(world, 1, '/canary status', ROOT);
    const commentUuid = 'redis-outage-comment-1';
    while (Date.now() - haltedAt < OUTAGE_MS) {
      const [hook, note, ready] = await Promise.all([
        post(pipelineHook(SHA, 1), 'Pipeline Hook').then((r) => r.status, () => 0),
        post(comment, 'Note Hook', commentUuid).then((r) => r.status, () => 0),
        serve.get('/readyz').then((r) => r.status, () => 0),
      ]);
      answers.push(hook, note);
      readiness.push(ready);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // A chat command during the outage is refused at once; it must never run later.
    const abort = await slack('abort reviews');
    await redis.start();
    const restartedAt = Date.now();
    await waitUntil('/readyz 200 again', async () => (await serve.get('/readyz')).status === 200, 60_000);
    const readyAfterMs = Date.now() - restartedAt;

    // GitLab redelivers the comment with the same webhook UUID; it is taken now and answered once.
    const redelivered = await waitUntil('the redelivered comment to be accepted', async () => {
      const status = (await post(comment, 'Note Hook', commentUuid)).status;
      return status === 202 ? status : null;
    }, 30_000);
    const ended = await waitUntil('the release to be promoted with a green status', () => {
      const statuses = world.gitlab.statuses(PROJECT, SHA).filter((s) => s.name === 'canarybot/reviews');
      return statuses.at(-1)?.status === 'success' ? statuses : null;
    }, 90_000);
    const replies = await waitUntil('the answer to the comment', () => {
      const answered = world.gitlab.notes(PROJECT, 1).filter((note) => !note.body.startsWith('<!-- canarybot:release:') && note.body !== '/canary status' && /release|reviews/i.test(note.body));
      return answered.length > 0 ? answered : null;
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const weights = world.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path.includes('/virtualservices/') && r.status < 300)
      .map((r) => canaryWeightOf(r.body));
    const states = statusPosts(world.gitlab.calls, SHA, (name) => name === 'canarybot/reviews');
    const notes = progressNotes(world, 1);
    const twoXxDuringOutage = answers.filter((status) => status >= 200 && status < 300).length;
    process.stdout.write(
      `Redis restarted mid-release: down ${((restartedAt - haltedAt) / 1000).toFixed(1)} s, ${answers.length} webhooks during the outage answered ${JSON.stringify(count(answers))}, ` +
        `/readyz ${JSON.stringify(count(readiness))} during, 200 again ${readyAfterMs} ms after the restart; traffic writes ${JSON.stringify(weights)}, ` +
        `${notes.length} progress note(s), statuses ${JSON.stringify(states)}, ${replies.length} answer(s) to the redelivered comment; ` +
        `Slack abort during the outage: HTTP ${abort.status} "${abort.text.slice(0, 80)}…", ran later: ${notes[0]?.body.match(/aborted|rolled back/i) ? 'yes' : 'no'}\n`,
    );

    expect(abort.text).toMatch(/nothing was changed/);
    expect(twoXxDuringOutage).toBe(0);
    expect(answers.every((status) => status === 503)).toBe(true);
    expect(readiness.every((status) => status === 503)).toBe(true);
    expect(redelivered).toBe(202);
    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(weights).toEqual([20, 60, 100, 0]);
    expect(collapse(weights)).toEqual(weights);
    expect(new Set(states).size).toBe(states.length);
    expect(states.at(-1)).toBe('success');
    expect(ended.at(-1)?.status).toBe('success');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body).toMatch(/promoted/i);
    expect(replies).toHaveLength(1);
  });
});

function count(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[String(value)] = (out[String(value)] ?? 0) + 1;
  return out;
}
