// GitLab as an OAuth 2 identity provider, for the GitLab API test server: `GET /oauth/authorize` and
// `POST /oauth/token` with the authorization-code grant and PKCE and the refresh-token grant, as GitLab's "OAuth 2.0 identity
// provider API" documents them (GitLab runs Doorkeeper; error bodies are RFC 6749's with
// Doorkeeper's sentences). The user "signed in to GitLab" in the browser is set by the test; the
// application is trusted, so GitLab skips its consent screen and redirects at once.

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface OAuthApplication {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Scopes the application may ask for (default read_user). */
  scopes?: string[];
}

export interface GitLabOAuth {
  /** Handles `/oauth/*`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Record<string, unknown> | null): boolean;
  addApplication(app: OAuthApplication): void;
  /** The user signed in to GitLab in the browser; null sends /oauth/authorize to GitLab's sign-in page. */
  signIn(userId: number | null): void;
  /** The signed-in user presses "Deny" instead of being let through. */
  denyNext(): void;
  /** Refresh tokens used so far (each works once). */
  readonly refreshes: number;
}

/** What the API server does with OAuth access tokens: issue one for a user, revoke one. */
export interface OAuthTokenIssuer {
  issue(userId: number, scopes: string[]): string;
  revoke(token: string): void;
}

interface RefreshGrant {
  clientId: string;
  userId: number;
  scopes: string[];
  accessToken: string;
}

interface Grant {
  clientId: string;
  userId: number;
  redirectUri: string;
  scopes: string[];
  challenge: string | null;
  method: string | null;
  expiresAt: number;
}

const INVALID_GRANT =
  'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.';
const INVALID_CLIENT = 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.';

/** `tokens` registers OAuth access tokens for a user with the API server (and revokes them on refresh). */
export function createGitLabOAuth(tokens: OAuthTokenIssuer, now: () => number = Date.now): GitLabOAuth {
  const applications = new Map<string, OAuthApplication>();
  const grants = new Map<string, Grant>();
  const refreshGrants = new Map<string, RefreshGrant>();
  let refreshes = 0;
  let signedIn: number | null = null;
  let deny = false;

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const redirect = (res: ServerResponse, location: string): void => {
    res.writeHead(302, { location });
    res.end();
  };
  const withParams = (uri: string, params: Record<string, string>): string => {
    const target = new URL(uri);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    return target.toString();
  };

  function authorize(res: ServerResponse, url: URL): void {
    const q = Object.fromEntries(url.searchParams.entries());
    const app = applications.get(q.client_id ?? '');
    // An unknown client or a redirect URI it did not register gets an error page, never a redirect.
    if (!app || q.redirect_uri !== app.redirectUri) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<h1>An error has occurred</h1><p>Client authentication failed due to unknown client, or the redirect URI is not registered.</p>');
      return;
    }
    const state: Record<string, string> = q.state ? { state: q.state } : {};
    if (q.response_type !== 'code') return redirect(res, withParams(app.redirectUri, { error: 'unsupported_response_type', error_description: 'The authorization server does not support this response type.', ...state }));
    const asked = (q.scope ?? 'read_user').split(/[ +]/).filter(Boolean);
    const allowed = app.scopes ?? ['read_user'];
    if (asked.some((scope) => !allowed.includes(scope))) {
      return redirect(res, withParams(app.redirectUri, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, or malformed.', ...state }));
    }
    if (q.code_challenge && q.code_challenge_method !== 'S256' && q.code_challenge_method !== 'plain') {
      return redirect(res, withParams(app.redirectUri, { error: 'invalid_request', error_description: 'The code challenge method must be plain or S256.', ...state }));
    }
    if (signedIn === null) return redirect(res, new URL('/users/sign_in', url).toString());
    if (deny) {
      deny = false;
      return redirect(res, withParams(app.redirectUri, { error: 'access_denied', error_description: 'The resource owner or authorization server denied the request.', ...state }));
    }
    const code = randomBytes(32).toString('hex');
    grants.set(code, {
      clientId: app.clientId,
      userId: signedIn,
      redirectUri: app.redirectUri,
      scopes: asked,
      challenge: q.code_challenge ?? null,
      method: q.code_challenge ? (q.code_challenge_method ?? 'plain') : null,
      expiresAt: now() + 10 * 60_000,
    });
    redirect(res, withParams(app.redirectUri, { code, ...state }));
  }

  function token(res: ServerResponse, body: Record<string, unknown> | null): void {
    const p = Object.fromEntries(Object.entries(body ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    const app = applications.get(p.client_id ?? '');
    if (!app || p.client_secret !== app.clientSecret) return json(res, 401, { error: 'invalid_client', error_description: INVALID_CLIENT });
    if (p.grant_type === 'refresh_token') return refresh(res, app, p);
    if (p.grant_type !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.' });
    const grant = grants.get(p.code ?? '');
    // A code is used once, whatever happens next.
    if (p.code) grants.delete(p.code);
    if (!grant || grant.clientId !== app.clientId || grant.redirectUri !== p.redirect_uri || grant.expiresAt < now()) {
      return json(res, 400, { error: 'invalid_grant', error_description: INVALID_GRANT });
    }
    if (grant.challenge !== null) {
      const verifier = p.code_verifier ?? '';
      const expected = grant.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (!verifier || expected !== grant.challenge) return json(res, 400, { error: 'invalid_grant', error_description: INVALID_GRANT });
    }
    issuePair(res, app.clientId, grant.userId, grant.scopes);
  }

  /** A new access and refresh token (GitLab's access tokens last two hours). */
  function issuePair(res: ServerResponse, clientId: string, userId: number, scopes: string[]): void {
    const accessToken = tokens.issue(userId, scopes);
    const refreshToken = randomBytes(32).toString('hex');
    refreshGrants.set(refreshToken, { clientId, userId, scopes, accessToken });
    json(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 7200,
      refresh_token: refreshToken,
      scope: scopes.join(' '),
      created_at: Math.floor(now() / 1000),
    });
  }

  /**
   * grant_type=refresh_token: works after the access token expired; the old access and refresh
   * tokens are revoked and a new pair is issued (GitLab's OAuth docs). A used or foreign refresh
   * token is an invalid grant.
   */
  function refresh(res: ServerResponse, app: OAuthApplication, p: Record<string, string>): void {
    const grant = refreshGrants.get(p.refresh_token ?? '');
    if (!grant || grant.clientId !== app.clientId) return json(res, 400, { error: 'invalid_grant', error_description: INVALID_GRANT });
    refreshGrants.delete(p.refresh_token ?? '');
    tokens.revoke(grant.accessToken);
    refreshes += 1;
    issuePair(res, app.clientId, grant.userId, grant.scopes);
  }

  return {
    handle(req, res, url, body) {
      if (url.pathname === '/oauth/authorize' && req.method === 'GET') authorize(res, url);
      else if (url.pathname === '/oauth/token' && req.method === 'POST') token(res, body);
      else return false;
      return true;
    },
    addApplication(app) {
      applications.set(app.clientId, app);
    },
    signIn(userId) {
      signedIn = userId;
    },
    denyNext() {
      deny = true;
    },
    get refreshes() {
      return refreshes;
    },
  };
}
