// `approvals.groups` from chat: Slack slash commands through the route, the BullMQ chat intake on
// real Redis and the real GitLab client against the GitLab API test server, which answers group
// membership. The engine records the commands it is handed.

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createQueuedChatIntake, type ChatIntake } from '../../src/chatops/chat-intake.js';
import { createChatReplier } from '../../src/chatops/chat-replier.js';
import { createChatCommandHandler } from '../../src/chatops/handle-chat-command.js';
import { createIdentityResolver, parseChatUsers } from '../../src/chatops/identity.js';
import { isLive, type Release } from '../../src/core/release.js';
import type { CommandRequest, ReleaseEngine, ReleaseQuery } from '../../src/engine/api.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { buildApp } from '../../src/server/app.js';
import { slackRoute } from '../../src/server/routes/slack.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { definitionFixture, releaseFixture } from './release-fixture.js';
import { slackSlash } from './slash-requests.js';

const SECRET = 'groups-signing-secret';
const RELEASE_MANAGERS = 'platform/release-managers';
const GROUP_ROUTE = 'GET /groups/:id/members/all/:user_id';
const { url: redisUrl, prefix } = testRedis();

class RecorderEngine implements Pick<ReleaseEngine, 'list' | 'command'> {
  commands: CommandRequest[] = [];
  releases: Release[] = [];
  async list(query: ReleaseQuery = {}): Promise<Release[]> {
    return this.releases.filter((r) => (query.state !== 'live' || isLive(r.state)) && (query.service === undefined || r.service === query.service));
  }
  async command(request: CommandRequest): Promise<void> {
    this.commands.push(request);
  }
}

const engine = new RecorderEngine();
let gitlab: GitLabApiServer;
let chat: ChatServer;
let redis: Redis;
let intake: ChatIntake;
let app: FastifyInstance;

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({
    users: [
      { id: 11, username: 'alice' },
      { id: 12, username: 'dave' },
      { id: 15, username: 'grace' },
    ],
    projects: [{ id: 10, path: 'bookinfo/reviews' }],
    members: [
      { projectId: 10, userId: 11, accessLevel: 40 },
      { projectId: 10, userId: 12, accessLevel: 30 },
      { projectId: 10, userId: 15, accessLevel: 30 },
    ],
    groups: [{ id: 70, path: RELEASE_MANAGERS, members: [{ userId: 15, accessLevel: 30 }] }],
  });
  chat = await startChatServer();
  const client = createGitLabClient({ url: gitlab.url, token: gitlab.token });
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  intake = createQueuedChatIntake({
    connection: redis,
    prefix,
    handler: createChatCommandHandler({
      engine,
      identity: createIdentityResolver({ mapping: parseChatUsers('slack: { U1: alice, U2: dave, U5: grace }'), gitlab: client }),
      gitlab: client,
      replier: createChatReplier({ retry: { attempts: 1, baseDelayMs: 0, timeoutMs: 2000 } }),
    }),
  });
  app = await buildApp({ logger: false, routes: [slackRoute({ signingSecret: SECRET, intake })] });
});

afterAll(async () => {
  await app?.close();
  await intake?.close();
  redis?.disconnect();
  await chat?.close();
  await gitlab?.close();
});

beforeEach(() => {
  engine.commands = [];
  engine.releases = [
    releaseFixture({
      id: 'rel-reviews',
      definition: definitionFixture({ approvals: { minAccessLevel: 'maintainer', users: [], groups: [RELEASE_MANAGERS], allowAuthor: false } }),
    }),
  ];
});

afterEach(() => {
  gitlab.heal();
  gitlab.assertNoUnexpectedCalls();
  gitlab.clearCalls();
});

let responses = 0;

/** `/canary <text>` from Slack user `userId`; resolves with where the outcome will be posted. */
async function slash(userId: string, text: string): Promise<string> {
  const responseUrl = `${chat.url}/response/groups-${++responses}`;
  const response = await app.inject(slackSlash(SECRET, { user_id: userId, text, response_url: responseUrl }));
  expect(response.statusCode).toBe(200);
  return responseUrl;
}

async function outcomeAt(url: string): Promise<string> {
  const path = new URL(url).pathname;
  await chat.waitFor(() => chat.postsTo(path).length > 0, 10_000);
  return (chat.postsTo(path)[0]!.body as { text: string }).text;
}

async function commanded(): Promise<CommandRequest[]> {
  const deadline = Date.now() + 10_000;
  while (engine.commands.length === 0) {
    if (Date.now() > deadline) throw new Error('no command reached the engine');
    await new Promise((r) => setTimeout(r, 20));
  }
  return engine.commands;
}

describe('approvals.groups from chat (queued intake on real Redis)', () => {
  it('lets a Developer who is in a listed group approve, after one group look-up', async () => {
    await slash('U5', 'approve reviews');

    const commands = await commanded();

    expect(commands.map((c) => [c.verb, c.releaseId, c.actor.username, c.actor.channel])).toEqual([['approve', 'rel-reviews', 'grace', 'slack']]);
    expect(gitlab.callsTo(GROUP_ROUTE).map((c) => [c.path, c.status])).toEqual([[`/groups/${RELEASE_MANAGERS}/members/all/15`, 200]]);
  });

  it('refuses a Developer who is not in the group, naming the rule and the group', async () => {
    const outcome = await outcomeAt(await slash('U2', 'approve reviews'));

    expect(outcome).toBe(`Refused: approvals.minAccessLevel: maintainer required, @dave has developer and is not in approvals.groups: ${RELEASE_MANAGERS}.`);
    expect(engine.commands.map((c) => [c.verb, c.refusal, c.replyTo])).toEqual([['approve', outcome, undefined]]);
    expect(gitlab.callsTo(GROUP_ROUTE).map((c) => c.status)).toEqual([404]);
  });

  it('does not look the groups up for a Maintainer', async () => {
    await slash('U1', 'approve reviews');

    const commands = await commanded();

    expect(commands.map((c) => [c.verb, c.actor.username])).toEqual([['approve', 'alice']]);
    expect(gitlab.callsTo('GET /projects/:id/members/all/:user_id')).toHaveLength(1);
    expect(gitlab.callsTo(GROUP_ROUTE)).toEqual([]);
  });

  it('refuses, saying GitLab could not be asked, when the group look-up fails', async () => {
    gitlab.fail({ status: 500, match: /^GET \/groups\// });

    const outcome = await outcomeAt(await slash('U5', 'approve reviews'));

    expect(outcome).toBe('canarybot could not complete this command (GitLab could not be asked who may do it); nothing was changed. Try again in a minute.');
    expect(engine.commands).toEqual([]);
    expect(gitlab.calls.filter((c) => c.path.startsWith('/groups/')).map((c) => [c.status, c.faulted])).toEqual([[500, true]]);
  });
});
