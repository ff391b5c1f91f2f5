import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/chatops/chat-request.js';
import { createIdentityResolver, parseChatUsers } from '../../src/chatops/identity.js';
import { createSlackEmailLookup } from '../../src/chatops/slack-email-lookup.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';

const request = (overrides: Partial<ChatRequest>): ChatRequest => ({
  channel: 'slack',
  userId: 'U0',
  text: 'approve reviews',
  responseUrl: 'http://127.0.0.1/r',
  receivedAt: 0,
  ...overrides,
});

describe('parseChatUsers', () => {
  it('reads both platforms and strips a leading @', () => {
    const mapping = parseChatUsers('slack:\n  U123: alice\nmattermost:\n  bob.mm: "@bob"\n');

    expect(mapping).toEqual({ slack: { U123: 'alice' }, mattermost: { 'bob.mm': 'bob' } });
  });

  it('accepts an empty file and a missing platform', () => {
    expect(parseChatUsers('')).toEqual({ slack: {}, mattermost: {} });
    expect(parseChatUsers('slack: { U1: a }')).toEqual({ slack: { U1: 'a' }, mattermost: {} });
  });

  it.each([
    ['unknown platform', 'teams: { U1: a }', /chat-users.yaml: .*teams|Unrecognized/],
    ['a list instead of a map', 'slack: [alice]', /chat-users.yaml: slack/],
    ['an empty username', 'slack: { U1: "" }', /chat-users.yaml: slack.U1/],
    ['not YAML', 'slack: {', /chat-users.yaml: not valid YAML/],
  ])('refuses %s with the file and field', (_name, text, message) => {
    expect(() => parseChatUsers(text, 'chat-users.yaml')).toThrow(message);
  });
});

describe('createIdentityResolver (GitLab API test server, real client)', () => {
  let gitlab: GitLabApiServer;
  beforeAll(async () => {
    gitlab = await startGitLabApiServer();
    gitlab.seed({
      users: [
        { id: 11, username: 'alice', publicEmail: 'alice@example.com' },
        { id: 12, username: 'bob' },
        { id: 13, username: 'mallory', state: 'blocked' },
        { id: 14, username: 'twin1', publicEmail: 'twin@example.com' },
        { id: 15, username: 'twin2', publicEmail: 'twin@example.com' },
      ],
    });
  });
  afterAll(async () => {
    await gitlab.close();
  });
  const client = () => createGitLabClient({ url: gitlab.url, token: gitlab.token });
  const mapping = parseChatUsers('slack: { U1: alice, U3: mallory, U9: ghost }\nmattermost: { mm-id-2: bob, carol.mm: alice }\n');

  it.each([
    ['slack id in the mapping', request({ userId: 'U1' }), { kind: 'mapped', username: 'alice' }],
    ['mattermost id in the mapping', request({ channel: 'mattermost', userId: 'mm-id-2', userName: 'bobby' }), { kind: 'mapped', username: 'bob' }],
    ['mattermost username in the mapping', request({ channel: 'mattermost', userId: 'x', userName: 'carol.mm' }), { kind: 'mapped', username: 'alice' }],
    ['slack user names are not identities', request({ userId: 'U77', userName: 'U1' }), { kind: 'unmapped' }],
    ['a slack id is not a mattermost id', request({ channel: 'mattermost', userId: 'U1' }), { kind: 'unmapped' }],
    ['mapped to a blocked user', request({ userId: 'U3' }), { kind: 'unmapped' }],
    ['mapped to a user GitLab does not have', request({ userId: 'U9' }), { kind: 'unmapped' }],
    ['not in the mapping, no e-mail lookup', request({ userId: 'U2', email: 'alice@example.com' }), { kind: 'unmapped' }],
  ])('%s', async (_name, chat, expected) => {
    const resolver = createIdentityResolver({ mapping, gitlab: client() });

    const result = await resolver.resolve(chat);

    expect(result.kind === 'mapped' ? { kind: 'mapped', username: result.user.username } : { kind: result.kind }).toEqual(expected);
  });

  it('tells an unmapped user how to get mapped', async () => {
    const result = await createIdentityResolver({ mapping, gitlab: client() }).resolve(request({ userId: 'U2' }));

    expect(result).toEqual({ kind: 'unmapped', message: expect.stringContaining('slack: { U2: <gitlab-username> }') });
  });

  it('maps by e-mail when allowed: from the request, or from Slack users.info', async () => {
    const slackApi = await startSlackUsersInfo({ U5: 'alice@example.com', U6: 'twin@example.com' });
    const resolver = createIdentityResolver({
      gitlab: client(),
      lookupByEmail: true,
      emailOf: createSlackEmailLookup({ token: 'xoxb-test', apiUrl: slackApi.url }),
    });

    const fromRequest = await resolver.resolve(request({ channel: 'mattermost', userId: 'm', email: 'alice@example.com' }));
    const fromSlack = await resolver.resolve(request({ userId: 'U5' }));
    const twoUsers = await resolver.resolve(request({ userId: 'U6' }));
    const unknownToSlack = await resolver.resolve(request({ userId: 'U404' }));
    await slackApi.close();

    expect(fromRequest.kind === 'mapped' && fromRequest.user.username).toBe('alice');
    expect(fromSlack.kind === 'mapped' && fromSlack.user.username).toBe('alice');
    expect(twoUsers.kind).toBe('unmapped');
    expect(unknownToSlack.kind).toBe('unmapped');
    expect(slackApi.authorizations).toEqual(['Bearer xoxb-test', 'Bearer xoxb-test', 'Bearer xoxb-test']);
    gitlab.assertNoUnexpectedCalls();
  });
});

/** Slack's users.info, for the e-mail lookup: `{ ok, user: { profile: { email } } }`. */
async function startSlackUsersInfo(emails: Record<string, string>): Promise<{ url: string; authorizations: string[]; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    authorizations.push(req.headers.authorization ?? '');
    const email = emails[url.searchParams.get('user') ?? ''];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(url.pathname === '/users.info' && email ? { ok: true, user: { profile: { email } } } : { ok: false, error: 'user_not_found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, authorizations, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
