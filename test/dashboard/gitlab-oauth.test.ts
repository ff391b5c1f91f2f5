// Sign-in with GitLab over real HTTP: the bot's /auth routes on a real Redis against the GitLab API
// test server's /oauth/authorize and /oauth/token (authorization code + PKCE, as GitLab documents).

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/server/app.js';
import { EXPIRED_SIGN_IN, gitlabOAuthRoutes } from '../../src/server/routes/gitlab-oauth.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { freePort } from '../support/free-port.js';

const { url: redisUrl, prefix } = testRedis();
const ROOT = { id: 1, username: 'root', name: 'Administrator' };
const CLIENT = { clientId: 'dashboard-app-id', clientSecret: 'dashboard-app-secret' };
let redis: Redis;
let gitlab: GitLabApiServer;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  redis = new Redis(redisUrl);
  gitlab = await startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' } });
  gitlab.seed({ users: [ROOT] });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gitlab.oauth.addApplication({ ...CLIENT, redirectUri: `${base}/auth/gitlab/callback`, scopes: ['read_user', 'openid'] });
  app = await buildApp({ logger: false, routes: [gitlabOAuthRoutes({ oauth: { gitlabUrl: gitlab.url, ...CLIENT, publicUrl: base }, redis, prefix })] });
  await app.listen({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await app.close();
  await gitlab.close();
  await redis.quit();
});

const get = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** Start at the dashboard's button and follow GitLab back to the callback; the callback's answer. */
async function signInThroughGitLab(options: { cookie?: (given: string) => string } = {}): Promise<Response> {
  const start = await get(`${base}/auth/gitlab`);
  const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const authorize = await get(start.headers.get('location') ?? '');
  return get(authorize.headers.get('location') ?? '', options.cookie ? options.cookie(cookie) : cookie);
}

describe('sign-in with GitLab', () => {
  it('sends the browser to GitLab with a state, PKCE and the read_user scope', async () => {
    const start = await get(`${base}/auth/gitlab`);
    const location = new URL(start.headers.get('location') ?? '');

    expect(start.status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe(`${gitlab.url}/oauth/authorize`);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: CLIENT.clientId,
      redirect_uri: `${base}/auth/gitlab/callback`,
      response_type: 'code',
      scope: 'read_user',
      code_challenge_method: 'S256',
    });
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(start.headers.get('set-cookie')).toMatch(new RegExp(`^canarybot_oauth_state=${location.searchParams.get('state')}; Path=/auth/gitlab; HttpOnly; SameSite=Lax; Max-Age=600$`));
  });

  it('trades the code for a GitLab token, handed to the tab once through a short-lived handle', async () => {
    gitlab.oauth.signIn(ROOT.id);

    const callback = await signInThroughGitLab();
    const handle = new URL(callback.headers.get('location') ?? '', base).searchParams.get('login') ?? '';
    const session = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle }) });
    const { accessToken } = (await session.json()) as { accessToken: string };
    const again = await fetch(`${base}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle }) });
    const user = await fetch(`${gitlab.url}/api/v4/user`, { headers: { authorization: `Bearer ${accessToken}` } });

    expect(callback.status).toBe(303);
    expect(session.headers.get('cache-control')).toBe('no-store');
    expect(((await user.json()) as { username: string }).username).toBe('root');
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: EXPIRED_SIGN_IN });
  });

  it.each([
    ['a callback without this browser’s state cookie (login CSRF)', { cookie: () => '' }, EXPIRED_SIGN_IN],
    ['a state cookie of another sign-in', { cookie: () => 'canarybot_oauth_state=someone-elses-state' }, EXPIRED_SIGN_IN],
  ])('refuses %s, back on the sign-in page with the sentence', async (_what, options, sentence) => {
    gitlab.oauth.signIn(ROOT.id);

    const callback = await signInThroughGitLab(options);
    const location = new URL(callback.headers.get('location') ?? '', base);

    expect(callback.status).toBe(303);
    expect(location.pathname).toBe('/signin');
    expect(location.searchParams.get('login_error')).toBe(sentence);
  });

  it('shows GitLab’s own reason when the user denies access', async () => {
    gitlab.oauth.signIn(ROOT.id);
    gitlab.oauth.denyNext();

    const callback = await signInThroughGitLab();

    expect(new URL(callback.headers.get('location') ?? '', base).searchParams.get('login_error')).toBe(
      'GitLab did not sign you in: The resource owner or authorization server denied the request..',
    );
  });

  it('says GitLab refused the sign-in when the application secret is wrong', async () => {
    const port = await freePort();
    const wrongBase = `http://127.0.0.1:${port}`;
    gitlab.oauth.addApplication({ clientId: 'other-app', clientSecret: 'right', redirectUri: `${wrongBase}/auth/gitlab/callback` });
    const wrong = await buildApp({
      logger: false,
      routes: [gitlabOAuthRoutes({ oauth: { gitlabUrl: gitlab.url, clientId: 'other-app', clientSecret: 'wrong', publicUrl: wrongBase }, redis, prefix })],
    });
    await wrong.listen({ host: '127.0.0.1', port });

    const start = await get(`${wrongBase}/auth/gitlab`);
    const authorize = await get(start.headers.get('location') ?? '');
    const callback = await get(authorize.headers.get('location') ?? '', (start.headers.get('set-cookie') ?? '').split(';')[0]);
    await wrong.close();

    expect(new URL(callback.headers.get('location') ?? '', wrongBase).searchParams.get('login_error')).toBe(
      'GitLab refused the sign-in: Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
    );
  });

  it('answers /auth/config, and 404 for the sign-in routes when OAuth is not configured', async () => {
    const plain = await buildApp({ logger: false, routes: [gitlabOAuthRoutes({ oauth: null, redis, prefix })] });

    const config = await plain.inject({ method: 'GET', url: '/auth/config' });
    const start = await plain.inject({ method: 'GET', url: '/auth/gitlab' });
    await plain.close();

    expect(config.json()).toEqual({ oauth: false });
    expect(start.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/auth/config' })).json()).toEqual({ oauth: true });
  });
});

describe('OAuth configuration', () => {
  it.each([
    [{ GITLAB_OAUTH_CLIENT_ID: 'id', PUBLIC_URL: 'https://bot.example.com' }, 'GITLAB_OAUTH_CLIENT_SECRET'],
    [{ GITLAB_OAUTH_CLIENT_ID: 'id', GITLAB_OAUTH_CLIENT_SECRET: 's' }, 'PUBLIC_URL'],
    [{ GITLAB_OAUTH_CLIENT_SECRET: 's' }, 'GITLAB_OAUTH_CLIENT_ID'],
  ])('%j stops start-up naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${name}: `));
  });
});

describe('renewing the sign-in (GitLab access tokens last two hours)', () => {
  let clock = Date.now();
  let timed: GitLabApiServer;
  let bot: FastifyInstance;
  let botBase: string;

  beforeAll(async () => {
    timed = await startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' }, now: () => clock });
    timed.seed({ users: [ROOT] });
    const port = await freePort();
    botBase = `http://127.0.0.1:${port}`;
    timed.oauth.addApplication({ ...CLIENT, redirectUri: `${botBase}/auth/gitlab/callback` });
    bot = await buildApp({ logger: false, routes: [gitlabOAuthRoutes({ oauth: { gitlabUrl: timed.url, ...CLIENT, publicUrl: botBase }, redis, prefix })] });
    await bot.listen({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await bot.close();
    await timed.close();
  });

  const post = (path: string, body: unknown) => fetch(`${botBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const whoAmI = async (token: string) => {
    const response = await fetch(`${timed.url}/api/v4/user`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as { username?: string; error_description?: string } };
  };

  async function signIn(): Promise<{ accessToken: string; refreshToken: string; expiresAt: number }> {
    timed.oauth.signIn(ROOT.id);
    const start = await get(`${botBase}/auth/gitlab`);
    const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const authorize = await get(start.headers.get('location') ?? '');
    const callback = await get(authorize.headers.get('location') ?? '', cookie);
    const handle = new URL(callback.headers.get('location') ?? '', botBase).searchParams.get('login') ?? '';
    return (await (await post('/auth/session', { handle })).json()) as { accessToken: string; refreshToken: string; expiresAt: number };
  }

  it('hands the tab the refresh token and the expiry with the access token', async () => {
    const before = Date.now();
    const tokens = await signIn();

    expect(tokens.refreshToken).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 7_200_000);
    expect(tokens.expiresAt).toBeLessThanOrEqual(Date.now() + 7_200_000);
  });

  it('trades the refresh token for a new pair once the access token expired; GitLab revokes the old ones', async () => {
    const first = await signIn();
    const refreshesBefore = timed.oauth.refreshes;
    clock += 2 * 60 * 60_000 + 1_000;
    const expired = await whoAmI(first.accessToken);

    const renewal = await post('/auth/refresh', { refreshToken: first.refreshToken });
    const second = (await renewal.json()) as { accessToken: string; refreshToken: string; expiresAt: number };

    expect(expired).toEqual({ status: 401, body: { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' } });
    expect(renewal.status).toBe(200);
    expect(renewal.headers.get('cache-control')).toBe('no-store');
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await whoAmI(second.accessToken)).body.username).toBe('root');
    expect(timed.oauth.refreshes).toBe(refreshesBefore + 1);
  });

  it('refuses a refresh token used twice with GitLab’s reason and "sign in again", and a malformed one with 400', async () => {
    const { refreshToken } = await signIn();
    await post('/auth/refresh', { refreshToken });

    const reused = await post('/auth/refresh', { refreshToken });
    const malformed = await post('/auth/refresh', { refreshToken: 42 });

    expect(reused.status).toBe(401);
    expect(((await reused.json()) as { error: string }).error).toMatch(/^GitLab refused to renew the sign-in: The provided authorization grant is invalid.* Sign in again\.$/);
    expect(malformed.status).toBe(400);
  });
});
