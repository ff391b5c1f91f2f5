import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInlineChatIntake, type ChatIntake } from '../../src/chatops/chat-intake.js';
import type { ChatRequest } from '../../src/chatops/chat-request.js';
import { createChatReplier } from '../../src/chatops/chat-replier.js';
import { createChatCommandHandler } from '../../src/chatops/handle-chat-command.js';
import { createIdentityResolver, parseChatUsers } from '../../src/chatops/identity.js';
import type { Release } from '../../src/core/release.js';
import { isLive } from '../../src/core/release.js';
import type { CommandRequest, ReleaseEngine, ReleaseQuery } from '../../src/engine/api.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { mattermostRoute } from '../../src/server/routes/mattermost.js';
import { slackRoute } from '../../src/server/routes/slack.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { definitionFixture, releaseFixture } from './release-fixture.js';
import { mattermostSlash, slackSlash } from './slash-requests.js';

const SECRET = 'slack-signing-secret';
const MM_TOKEN = 'mattermost-token';

/** Records commands; reads from a fixed list (newest first). */
class RecorderEngine implements Pick<ReleaseEngine, 'list' | 'command'> {
  commands: CommandRequest[] = [];
  constructor(public releases: Release[]) {}
  async list(query: ReleaseQuery = {}): Promise<Release[]> {
    return this.releases.filter((r) => (query.state !== 'live' || isLive(r.state)) && (query.service === undefined || r.service === query.service));
  }
  async command(request: CommandRequest): Promise<void> {
    this.commands.push(request);
  }
}

let gitlab: GitLabApiServer;
let chat: ChatServer;
let app: FastifyInstance;
let engine: RecorderEngine;
let submitted: ChatRequest[];
let intake: ChatIntake;
let failIntake = false;
/** The nonce store's keys (Redis SET NX in production). */
const seenSignatures = new Set<string>();
const metrics = createMetrics();
const reviews = releaseFixture({ id: 'rel-reviews', stepIndex: 1 });
const details = (namespace: string) =>
  releaseFixture({ id: `rel-details-${namespace}`, definition: definitionFixture({ name: 'details' }), service: 'details', namespace, state: 'progressing' });
/** Recorded without the MR author (a post-merge trigger): the author comes from GitLab. */
const productpage = releaseFixture({
  id: 'rel-productpage',
  definition: definitionFixture({ name: 'productpage' }),
  service: 'productpage',
  mr: { projectId: 10, iid: 4 },
});
const oldRatings = releaseFixture({ id: 'rel-ratings', definition: definitionFixture({ name: 'ratings' }), service: 'ratings', state: 'rolled-back', reason: 'request-success-rate 80 below 99.' });

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({
    users: [
      { id: 11, username: 'alice' },
      { id: 12, username: 'dave' },
      { id: 13, username: 'dora' },
      { id: 14, username: 'eve' },
    ],
    projects: [{ id: 10, path: 'bookinfo/reviews' }],
    mergeRequests: [{ projectId: 10, iid: 4, authorId: 13 }],
    members: [
      { projectId: 10, userId: 11, accessLevel: 40 },
      { projectId: 10, userId: 12, accessLevel: 30 },
      { projectId: 10, userId: 13, accessLevel: 40, inherited: true },
    ],
  });
  chat = await startChatServer();
  const client = createGitLabClient({ url: gitlab.url, token: gitlab.token });
  const handler = createChatCommandHandler({
    engine: { list: (q) => engine.list(q), command: (c) => engine.command(c) },
    identity: createIdentityResolver({
      mapping: parseChatUsers('slack: { U1: alice, U2: dave, U3: dora, U4: eve }\nmattermost: { alice.mm: alice }'),
      gitlab: client,
    }),
    gitlab: client,
    replier: createChatReplier({ retry: { attempts: 1, baseDelayMs: 0, timeoutMs: 2000 } }),
  });
  const inline = createInlineChatIntake(handler);
  intake = {
    submit: async (request) => {
      if (failIntake) throw new Error('redis down');
      submitted.push(request);
      await inline.submit(request);
    },
    close: () => inline.close(),
  };
  app = await buildApp({
    logger: false,
    routes: [
      slackRoute({ signingSecret: SECRET, intake, metrics, nonces: { claim: async (key) => !seenSignatures.has(key) && Boolean(seenSignatures.add(key)) } }),
      mattermostRoute({ token: MM_TOKEN, intake, metrics, responseOrigins: [new URL(chat.url).origin] }),
    ],
  });
});
afterAll(async () => {
  await app.close();
  await chat.close();
  await gitlab.close();
});
beforeEach(() => {
  engine = new RecorderEngine([reviews, productpage, details('bookinfo'), details('staging'), oldRatings]);
  submitted = [];
  failIntake = false;
  chat.posts.length = 0;
});

let responseCounter = 0;
const responseUrl = (): string => `${chat.url}/response/${++responseCounter}`;

/** Sends a slash command, waits for its outcome on response_url (when one is expected). */
async function slash(request: ReturnType<typeof slackSlash>): Promise<{ status: number; ack: { response_type?: string; text?: string } }> {
  const response = await app.inject(request);
  await intake.close();
  return { status: response.statusCode, ack: response.json() };
}
const repliesTo = (url: string): { response_type: string; text: string }[] => chat.postsTo(new URL(url).pathname).map((p) => p.body as { response_type: string; text: string });

describe('POST /chatops/slack', () => {
  it('acts on a valid signed command from a mapped Maintainer', async () => {
    const url = responseUrl();

    const { status, ack } = await slash(slackSlash(SECRET, { user_id: 'U1', user_name: 'alice.s', text: 'approve reviews', response_url: url }));

    expect(status).toBe(200);
    expect(ack).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('/canary approve reviews') });
    expect(engine.commands).toEqual([
      {
        verb: 'approve',
        actor: { username: 'alice', userId: 11, channel: 'slack', chatUser: 'alice.s (U1)' },
        releaseId: 'rel-reviews',
        stepIndex: 1,
        writtenAt: expect.any(Number),
        replyTo: { channel: 'slack', responseUrl: url },
      },
    ]);
    // The engine answers accepted commands; the intake itself said nothing more.
    expect(repliesTo(url)).toEqual([]);
  });

  it.each([
    ['a bad signature', { signature: 'v0=' + '0'.repeat(64) }],
    ['a signature made with another secret', { secret: 'other-secret' }],
    ['a stale timestamp (replay of a request signed 6 minutes ago)', { timestamp: Math.floor(Date.now() / 1000) - 360 }],
    ['a missing signature header', { omit: ['signature' as const] }],
    ['a missing timestamp header', { omit: ['timestamp' as const] }],
    ['both headers missing', { omit: ['signature' as const, 'timestamp' as const] }],
  ])('answers 401 to %s, and nothing changes', async (_name, variant) => {
    const url = responseUrl();
    const { secret, ...options } = { secret: SECRET, ...variant };
    const request = slackSlash(secret, { user_id: 'U1', text: 'approve reviews', response_url: url }, options);

    const response = await app.inject(request);
    await intake.close();

    expect(response.statusCode).toBe(401);
    expect(submitted).toEqual([]);
    expect(engine.commands).toEqual([]);
    expect(repliesTo(url)).toEqual([]);
  });

  it('answers 401 to a body changed after signing', async () => {
    const request = slackSlash(SECRET, { user_id: 'U4', text: 'status', response_url: responseUrl() });
    const tampered = { ...request, payload: String(request.payload).replace('U4', 'U1').replace('status', 'approve+reviews') };

    const response = await app.inject(tampered);

    expect(response.statusCode).toBe(401);
    expect(submitted).toEqual([]);
  });

  it('answers help at once, without queueing', async () => {
    const { status, ack } = await slash(slackSlash(SECRET, { user_id: 'U9', text: 'help', response_url: responseUrl() }));

    expect(status).toBe(200);
    expect(ack.text).toContain('Usage:');
    expect(submitted).toEqual([]);
  });

  it.each([
    ['an unknown verb', 'deploy reviews', 'Unknown command.'],
    ['a verb without its service', 'approve', '`/canary approve` needs a service'],
  ])('answers %s at once with the help text', async (_name, text, message) => {
    const { ack } = await slash(slackSlash(SECRET, { user_id: 'U1', text, response_url: responseUrl() }));

    expect(ack.response_type).toBe('ephemeral');
    expect(ack.text).toContain(message);
    expect(ack.text).toContain('Usage:');
    expect(submitted).toEqual([]);
  });

  it('never echoes what the user typed in its answer to an unknown command (`/canary @all`)', async () => {
    const url = responseUrl();
    const { ack } = await slash(mattermostSlash(MM_TOKEN, { user_id: 'stranger', user_name: 'stranger', text: '@all please look', response_url: url }));
    const bad = await slash(slackSlash(SECRET, { user_id: 'U1', text: 'status @channel!', response_url: responseUrl() }));

    expect(ack.text).toMatch(/^Unknown command\./);
    expect(ack.text).not.toContain('@all');
    expect(bad.ack.text).not.toContain('@channel');
    expect(repliesTo(url)).toEqual([]);
  });

  it('refuses a Mattermost command whose response_url is not on the configured Mattermost server, posting nothing there', async () => {
    const { status, ack } = await slash(mattermostSlash(MM_TOKEN, { user_id: 'alice.mm', user_name: 'alice.mm', text: 'status reviews', response_url: 'http://attacker.invalid/collect' }));

    expect(status).toBe(400);
    expect(ack.text).toMatch(/configured chat server/);
    expect(submitted).toEqual([]);
  });

  it('takes a Slack signature once: the same signed request replayed within its window is refused and not run', async () => {
    const request = slackSlash(SECRET, { user_id: 'U1', user_name: 'alice.s', text: 'abort reviews replayed', response_url: responseUrl() });

    const first = await slash(request);
    const replay = await slash(request);

    expect(first.status).toBe(200);
    expect(replay.status).toBe(401);
    expect(submitted.map((r) => r.text)).toEqual(['abort reviews replayed']);
  });

  it('lets an unmapped user read status and list', async () => {
    const statusUrl = responseUrl();
    const listUrl = responseUrl();

    await slash(slackSlash(SECRET, { user_id: 'U999', text: 'status ratings', response_url: statusUrl }));
    await slash(slackSlash(SECRET, { user_id: 'U999', text: 'list', response_url: listUrl }));

    expect(repliesTo(statusUrl)).toEqual([
      { response_type: 'ephemeral', text: expect.stringMatching(/`default\/bookinfo\/ratings` rolled-back[\s\S]*Reason: request-success-rate 80 below 99\./) },
    ]);
    const list = repliesTo(listUrl)[0]!.text;
    expect(list).toContain('`default/bookinfo/reviews` awaiting-approval, step 2/3, canary 25 %');
    expect(list).toContain('`default/staging/details` progressing');
    expect(list).not.toContain('ratings');
  });

  it.each([
    ['an unmapped user', 'U999', 'approve reviews', /^Refused: Your slack user U999 is not mapped to a GitLab user.*CHAT_USERS_FILE/],
    ['a Developer (policy: maintainer)', 'U2', 'approve reviews', /^Refused: approvals.minAccessLevel: maintainer required, @dave has developer\.$/],
    ['the MR author (allowAuthor off)', 'U3', 'promote reviews', /^Refused: approvals.allowAuthor: @dora wrote this merge request/],
    ['the MR author, found through GitLab', 'U3', 'approve productpage', /^Refused: approvals.allowAuthor: @dora wrote this merge request/],
    ['a mapped non-member', 'U4', 'approve reviews', /^Refused: @eve is not a member of the project/],
  ])('refuses %s with the reason', async (_name, user, text, reason) => {
    const url = responseUrl();

    const { ack } = await slash(slackSlash(SECRET, { user_id: user, text, response_url: url }));

    expect(ack.text).toMatch(/Working on it/);
    expect(engine.commands.every((c) => c.refusal !== undefined && c.replyTo === undefined)).toBe(true);
    expect(repliesTo(url)).toEqual([{ response_type: 'ephemeral', text: expect.stringMatching(reason) }]);
  });

  it('lets a Developer abort, with the reason passed on', async () => {
    await slash(slackSlash(SECRET, { user_id: 'U2', text: 'abort reviews error rate looks wrong', response_url: responseUrl() }));

    expect(engine.commands).toEqual([expect.objectContaining({ verb: 'abort', reason: 'error rate looks wrong', actor: expect.objectContaining({ username: 'dave' }) })]);
  });

  it('asks to qualify an ambiguous service, listing the choices', async () => {
    const url = responseUrl();

    await slash(slackSlash(SECRET, { user_id: 'U1', text: 'pause details', response_url: url }));
    await slash(slackSlash(SECRET, { user_id: 'U1', text: 'pause staging/details', response_url: url }));

    expect(repliesTo(url)).toEqual([
      { response_type: 'ephemeral', text: '`details` names more than one release target; say which: `/canary pause bookinfo/details`, `/canary pause staging/details`.' },
    ]);
    expect(engine.commands.map((c) => c.releaseId)).toEqual(['rel-details-staging']);
  });

  it('says so when no live release has that name; retry looks at the latest release', async () => {
    const url = responseUrl();

    await slash(slackSlash(SECRET, { user_id: 'U1', text: 'approve ratings', response_url: url }));
    await slash(slackSlash(SECRET, { user_id: 'U1', text: 'retry ratings', response_url: url }));

    expect(repliesTo(url)).toEqual([{ response_type: 'ephemeral', text: 'No live release of `ratings`. `/canary list` shows the live releases.' }]);
    expect(engine.commands).toEqual([expect.objectContaining({ verb: 'retry', releaseId: 'rel-ratings' })]);
  });

  it('says to try again when GitLab is down, and changes nothing', async () => {
    const url = responseUrl();
    gitlab.fail({ status: 500 });

    await slash(slackSlash(SECRET, { user_id: 'U1', text: 'approve reviews', response_url: url }));
    gitlab.heal();

    expect(engine.commands).toEqual([]);
    expect(repliesTo(url)).toEqual([{ response_type: 'ephemeral', text: expect.stringMatching(/could not complete this command .* nothing was changed\. Try again/) }]);
  });

  it('says the queue is unavailable instead of timing out, and changes nothing', async () => {
    failIntake = true;

    const { status, ack } = await slash(slackSlash(SECRET, { user_id: 'U1', text: 'approve reviews', response_url: responseUrl() }));

    expect(status).toBe(200);
    expect(ack.text).toContain('nothing was changed');
    expect(engine.commands).toEqual([]);
  });

  it('answers 400 to a verified request without response_url', async () => {
    const request = slackSlash(SECRET, { user_id: 'U1', text: 'list', response_url: 'not a url' });

    const response = await app.inject(request);

    expect(response.statusCode).toBe(400);
    expect(submitted).toEqual([]);
  });
});

describe('POST /chatops/mattermost', () => {
  it.each(['header', 'field', 'both'] as const)('acts with the right token in the %s', async (via) => {
    const url = responseUrl();

    const response = await app.inject(mattermostSlash(MM_TOKEN, { user_id: 'x1', user_name: 'alice.mm', text: 'approve reviews', response_url: url }, { via }));
    await intake.close();

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('approve reviews') });
    expect(engine.commands).toEqual([expect.objectContaining({ actor: { username: 'alice', userId: 11, channel: 'mattermost', chatUser: 'alice.mm (x1)' }, replyTo: { channel: 'mattermost', responseUrl: url } })]);
  });

  it.each([
    ['a wrong token', 'not-the-token'],
    ['no token', null],
  ])('answers 401 to %s, and nothing changes', async (_name, token) => {
    const url = responseUrl();

    const response = await app.inject(mattermostSlash(token, { user_id: 'x1', user_name: 'alice.mm', text: 'approve reviews', response_url: url }));
    await intake.close();

    expect(response.statusCode).toBe(401);
    expect(submitted).toEqual([]);
    expect(engine.commands).toEqual([]);
    expect(repliesTo(url)).toEqual([]);
  });

  it('accepts Mattermost\'s JSON payload too', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/chatops/mattermost',
      headers: { 'content-type': 'application/json', authorization: `Token ${MM_TOKEN}` },
      payload: JSON.stringify({ user_id: 'x1', user_name: 'alice.mm', text: 'resume reviews', response_url: responseUrl() }),
    });
    await intake.close();

    expect(response.statusCode).toBe(200);
    expect(engine.commands.map((c) => c.verb)).toEqual(['resume']);
  });
});

describe('metrics', () => {
  it('counts chat deliveries by source, verb and outcome', async () => {
    const text = await metrics.registry.getSingleMetricAsString('canarybot_webhook_deliveries_total');

    expect(text).toMatch(/source="slack",event="approve",outcome="accepted"} [1-9]/);
    expect(text).toMatch(/source="slack",event="unknown",outcome="refused"} [1-9]/);
    expect(text).toMatch(/source="mattermost",event="unknown",outcome="refused"} [1-9]/);
  });
});
