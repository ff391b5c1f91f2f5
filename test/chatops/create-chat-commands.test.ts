import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatReplier } from '../../src/chatops/chat-replier.js';
import { createChatCommands } from '../../src/chatops/create-chat-commands.js';
import type { Release } from '../../src/core/release.js';
import type { CommandRequest } from '../../src/engine/api.js';
import { buildApp } from '../../src/server/app.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { testRedis } from '../support/redis.js';
import { releaseFixture } from './release-fixture.js';
import { mattermostSlash, slackSlash } from './slash-requests.js';

const { url: redisUrl, prefix } = testRedis();
let chat: ChatServer;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  chat = await startChatServer();
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  dir = mkdtempSync(join(tmpdir(), 'canarybot-chat-users-'));
});
afterAll(async () => {
  redis.disconnect();
  await chat.close();
  rmSync(dir, { recursive: true, force: true });
});

const release = releaseFixture({ id: 'rel-1' });
const gitlab = {
  userByUsername: async (username: string) => ({ id: 11, username, name: username, state: 'active' }),
  usersByEmail: async () => [],
  memberAccessLevel: async () => 40,
  groupMemberAccessLevel: async () => null,
  getMergeRequest: async () => null,
};

describe('createChatCommands', () => {
  it('serves only the configured platforms', async () => {
    const commands = await createChatCommands({
      engine: { list: async () => [], command: async () => undefined },
      gitlab,
      connection: redis,
      prefix,
      slackSigningSecret: 'secret',
      replier: createChatReplier(),
      runWorker: false,
    });
    const app = await buildApp({ logger: false, routes: commands.routes });

    const slack = await app.inject(slackSlash('secret', { user_id: 'U1', text: 'help', response_url: `${chat.url}/x` }));
    const mattermost = await app.inject(mattermostSlash('t', { user_id: 'm', text: 'help', response_url: `${chat.url}/x` }));
    await app.close();
    await commands.close();

    expect(slack.statusCode).toBe(200);
    expect(mattermost.statusCode).toBe(404);
  });

  it('runs a command through the chat-intake queue with the mapping file', async () => {
    const file = join(dir, 'chat-users.yaml');
    writeFileSync(file, 'mattermost:\n  alice.mm: alice\n');
    const commands: CommandRequest[] = [];
    const wired = await createChatCommands({
      engine: { list: async (): Promise<Release[]> => [release], command: async (request) => void commands.push(request) },
      gitlab,
      connection: redis,
      prefix,
      mattermostToken: 'mm-token',
      mattermostUrl: chat.url,
      chatUsersFile: file,
      replier: createChatReplier(),
    });
    const app = await buildApp({ logger: false, routes: wired.routes });

    const response = await app.inject(mattermostSlash('mm-token', { user_id: 'x1', user_name: 'alice.mm', text: 'approve reviews', response_url: `${chat.url}/y` }));
    const deadline = Date.now() + 10_000;
    while (commands.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await app.close();
    await wired.close();

    expect(response.statusCode).toBe(200);
    expect(commands).toEqual([expect.objectContaining({ verb: 'approve', releaseId: 'rel-1', actor: expect.objectContaining({ username: 'alice', channel: 'mattermost', chatUser: 'alice.mm (x1)' }) })]);
  });

  it('maps an unmapped Slack user by the e-mail Slack gives for SLACK_BOT_TOKEN (users.info)', async () => {
    const seen: { url?: string; authorization?: string }[] = [];
    const slackApi = createServer((request: IncomingMessage, response) => {
      seen.push({ url: request.url, authorization: request.headers.authorization });
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ ok: true, user: { profile: { email: 'carol@example.com' } } }));
    });
    await new Promise<void>((resolve) => slackApi.listen(0, '127.0.0.1', resolve));
    const commands: CommandRequest[] = [];
    const wired = await createChatCommands({
      engine: { list: async (): Promise<Release[]> => [release], command: async (request) => void commands.push(request) },
      gitlab: { ...gitlab, usersByEmail: async (email: string) => (email === 'carol@example.com' ? [{ id: 12, username: 'carol', name: 'Carol', state: 'active' }] : []) },
      connection: redis,
      prefix,
      slackSigningSecret: 'secret',
      slackBotToken: 'xoxb-test-token',
      slackApiUrl: `http://127.0.0.1:${(slackApi.address() as AddressInfo).port}`,
      chatLookupByEmail: true,
      replier: createChatReplier(),
    });
    const app = await buildApp({ logger: false, routes: wired.routes });

    const response = await app.inject(slackSlash('secret', { user_id: 'U42', user_name: 'carol.s', text: 'approve reviews', response_url: `${chat.url}/z` }));
    const deadline = Date.now() + 10_000;
    while (commands.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await app.close();
    await wired.close();
    await new Promise((resolve) => slackApi.close(resolve));

    expect(response.statusCode).toBe(200);
    expect(seen).toEqual([{ url: '/users.info?user=U42', authorization: 'Bearer xoxb-test-token' }]);
    expect(commands).toEqual([expect.objectContaining({ verb: 'approve', actor: expect.objectContaining({ username: 'carol', channel: 'slack' }) })]);
  });

  it('stops start-up with the file and field when the mapping file is malformed', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'slack: [alice]\n');

    await expect(
      createChatCommands({ engine: { list: async () => [], command: async () => undefined }, gitlab, connection: redis, chatUsersFile: file, replier: createChatReplier() }),
    ).rejects.toThrow(`${file}: slack`);
  });
});
