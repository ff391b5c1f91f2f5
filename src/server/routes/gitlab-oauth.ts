// Sign-in with GitLab for the dashboard: OAuth 2 authorization code with PKCE against GITLAB_URL
// (GitLab docs, "OAuth 2.0 identity provider API"). canarybot keeps no session of its own: the
// access token GitLab issues goes to the browser tab, which sends it as `Authorization: Bearer`
// like a pasted token, so the API's identity check is the only one. The token crosses from the
// callback to the tab through a one-time handle (60 s, read once), never in a URL. GitLab's access
// tokens expire after two hours: the tab also keeps the refresh token and trades it through
// `POST /auth/refresh` (which adds the client secret) for a new pair; GitLab revokes the old one.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { RouteModule } from '../app.js';

export interface GitLabOAuthSettings {
  gitlabUrl: string;
  clientId: string;
  clientSecret: string;
  /** PUBLIC_URL: the callback is `<publicUrl>/auth/gitlab/callback`, as registered in GitLab. */
  publicUrl: string;
  /** Default `read_user` (enough for GET /user, which is all canarybot asks with it). */
  scopes?: string;
}

export interface GitLabOAuthOptions {
  /** null: OAuth is not configured; `/auth/config` says so and the dashboard offers the token field only. */
  oauth: GitLabOAuthSettings | null;
  redis: Pick<Redis, 'set' | 'getdel'>;
  prefix: string;
  fetch?: typeof fetch;
}

const STATE_COOKIE = 'canarybot_oauth_state';
const STATE_TTL_S = 600;
const HANDLE_TTL_S = 60;

export const EXPIRED_SIGN_IN = 'This sign-in has expired or was already used; sign in again.';

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

export function gitlabOAuthRoutes(options: GitLabOAuthOptions): RouteModule {
  return (app: FastifyInstance) => {
    const { oauth } = options;
    const doFetch = options.fetch ?? fetch;
    const key = (kind: string, id: string): string => `${options.prefix}:oauth:${kind}:${id}`;

    app.get('/auth/config', async () => ({ oauth: oauth !== null }));

    // From here on everything needs OAuth configured.
    const ifConfigured = (reply: FastifyReply): GitLabOAuthSettings | undefined => {
      if (oauth) return oauth;
      void reply.code(404).send({ error: 'Sign-in with GitLab is not configured (GITLAB_OAUTH_CLIENT_ID); paste a token instead.' });
      return undefined;
    };
    const callbackUrl = (settings: GitLabOAuthSettings): string => `${settings.publicUrl.replace(/\/+$/, '')}/auth/gitlab/callback`;
    const secureCookie = (settings: GitLabOAuthSettings): string => (settings.publicUrl.startsWith('https:') ? '; Secure' : '');
    const failed = (reply: FastifyReply, sentence: string) => reply.redirect(`/signin?${new URLSearchParams({ login_error: sentence }).toString()}`, 303);

    app.get('/auth/gitlab', async (_request, reply) => {
      const settings = ifConfigured(reply);
      if (!settings) return reply;
      const state = b64url(randomBytes(24));
      const verifier = b64url(randomBytes(48));
      await options.redis.set(key('state', state), verifier, 'EX', STATE_TTL_S);
      const authorize = new URL('/oauth/authorize', settings.gitlabUrl);
      authorize.search = new URLSearchParams({
        client_id: settings.clientId,
        redirect_uri: callbackUrl(settings),
        response_type: 'code',
        state,
        scope: settings.scopes ?? 'read_user',
        code_challenge: b64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
      }).toString();
      // The state is bound to this browser too, so a callback started elsewhere (login CSRF) is refused.
      reply.header('set-cookie', `${STATE_COOKIE}=${state}; Path=/auth/gitlab; HttpOnly; SameSite=Lax; Max-Age=${STATE_TTL_S}${secureCookie(settings)}`);
      return reply.redirect(authorize.toString(), 302);
    });

    app.get('/auth/gitlab/callback', async (request, reply) => {
      const settings = ifConfigured(reply);
      if (!settings) return reply;
      const query = request.query as Record<string, string | undefined>;
      reply.header('set-cookie', `${STATE_COOKIE}=; Path=/auth/gitlab; HttpOnly; SameSite=Lax; Max-Age=0${secureCookie(settings)}`);
      if (query.error) return failed(reply, `GitLab did not sign you in: ${query.error_description ?? query.error}.`);
      const cookie = cookieValue(request.headers.cookie, STATE_COOKIE);
      if (!query.state || !query.code || !cookie || !sameText(cookie, query.state)) return failed(reply, EXPIRED_SIGN_IN);
      const verifier = await options.redis.getdel(key('state', query.state));
      if (!verifier) return failed(reply, EXPIRED_SIGN_IN);

      let tokens: OAuthTokens;
      try {
        tokens = await tokenRequest(doFetch, settings, { grant_type: 'authorization_code', code: query.code, redirect_uri: callbackUrl(settings), code_verifier: verifier }, 'sign-in');
      } catch (error) {
        request.log.warn({ err: (error as Error).message }, 'gitlab oauth: code exchange failed');
        return failed(reply, (error as Error).message);
      }
      const handle = b64url(randomBytes(24));
      await options.redis.set(key('handle', handle), JSON.stringify(tokens), 'EX', HANDLE_TTL_S);
      return reply.redirect(`/?${new URLSearchParams({ login: handle }).toString()}`, 303);
    });

    app.post('/auth/session', async (request, reply) => {
      const body = request.body as { handle?: unknown } | undefined;
      const handle = typeof body?.handle === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(body.handle) ? body.handle : null;
      const stored = handle ? await options.redis.getdel(key('handle', handle)) : null;
      if (!stored) return reply.code(400).send({ error: EXPIRED_SIGN_IN });
      return reply.header('cache-control', 'no-store').send(JSON.parse(stored) as OAuthTokens);
    });

    app.post('/auth/refresh', async (request, reply) => {
      const settings = ifConfigured(reply);
      if (!settings) return reply;
      const body = request.body as { refreshToken?: unknown } | undefined;
      const refreshToken = typeof body?.refreshToken === 'string' && /^[\x21-\x7e]{16,512}$/.test(body.refreshToken) ? body.refreshToken : null;
      if (!refreshToken) return reply.code(400).send({ error: 'Send {"refreshToken": "…"} from the sign-in with GitLab.' });
      try {
        const tokens = await tokenRequest(doFetch, settings, { grant_type: 'refresh_token', refresh_token: refreshToken, redirect_uri: callbackUrl(settings) }, 'refresh');
        return reply.header('cache-control', 'no-store').send(tokens);
      } catch (error) {
        request.log.info({ err: (error as Error).message }, 'gitlab oauth: refresh refused');
        return reply.code(401).header('cache-control', 'no-store').send({ error: (error as Error).message });
      }
    });
  };
}

/** What the tab keeps: GitLab's access token, when it expires (epoch ms) and the refresh token. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number | null;
}

/** POST /oauth/token (authorization code or refresh token, with the client secret); GitLab's error sentence on a refusal. */
async function tokenRequest(doFetch: typeof fetch, settings: GitLabOAuthSettings, grant: Record<string, string>, purpose: 'sign-in' | 'refresh'): Promise<OAuthTokens> {
  let response: Response;
  try {
    response = await doFetch(new URL('/oauth/token', settings.gitlabUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ client_id: settings.clientId, client_secret: settings.clientSecret, ...grant }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new Error(purpose === 'sign-in' ? 'GitLab could not be reached to finish signing in; try again in a minute.' : 'GitLab could not be reached to renew the sign-in; try again in a minute.');
  }
  const body = (await response.json().catch(() => null)) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | null;
  if (!response.ok || typeof body?.access_token !== 'string') {
    const why = typeof body?.error_description === 'string' ? body.error_description : typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
    throw new Error(purpose === 'sign-in' ? `GitLab refused the sign-in: ${why}` : `GitLab refused to renew the sign-in: ${why} Sign in again.`);
  }
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : null;
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null,
    // From this clock, not GitLab's created_at: the tab compares it with its own.
    expiresAt: expiresIn === null ? null : Date.now() + expiresIn * 1000,
  };
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
