// Calls to the bot's API as the signed-in GitLab user: the token goes in `Authorization: Bearer`
// and the bot asks GitLab who it is. Errors carry the bot's own sentence.

import type { BoardRelease, ReleasePage } from '../../src/engine/board-view.js';
import type { ReleaseSummary } from '../../src/engine/release-view.js';

export type { BoardRelease, ReleasePage, ReleaseSummary };

const TOKEN_KEY = 'canarybot.token';
const REFRESH_KEY = 'canarybot.refresh';
const EXPIRES_KEY = 'canarybot.expires';
/** Renew this long before GitLab's expiry, so no call goes out with a token about to lapse. */
const RENEW_EARLY_MS = 60_000;

/** What sign-in with GitLab hands over (`/auth/session`, `/auth/refresh`). */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const listeners = new Set<() => void>();

/**
 * Kept for the browser tab only (sessionStorage): closing the tab signs out. A pasted token is kept
 * alone; a sign-in with GitLab also keeps its refresh token and expiry, to renew it (GitLab's access
 * tokens last two hours).
 */
export const tokenStore = {
  get(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.removeItem(REFRESH_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
    listeners.forEach((listener) => listener());
  },
  setOAuth(tokens: OAuthTokens): void {
    sessionStorage.setItem(TOKEN_KEY, tokens.accessToken);
    if (tokens.refreshToken) sessionStorage.setItem(REFRESH_KEY, tokens.refreshToken);
    else sessionStorage.removeItem(REFRESH_KEY);
    if (tokens.expiresAt !== null) sessionStorage.setItem(EXPIRES_KEY, String(tokens.expiresAt));
    else sessionStorage.removeItem(EXPIRES_KEY);
    listeners.forEach((listener) => listener());
  },
  refreshToken(): string | null {
    return sessionStorage.getItem(REFRESH_KEY);
  },
  expiresAt(): number | null {
    const value = Number(sessionStorage.getItem(EXPIRES_KEY));
    return Number.isFinite(value) && value > 0 ? value : null;
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
  },
  /** Called after a sign-in or a renewal stored a new token. */
  onChange(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

let renewing: Promise<string | null> | null = null;

/**
 * Trades the refresh token for a new pair through the bot (which adds the client secret); one
 * renewal at a time, however many calls found the token expired. Null: no refresh token, or GitLab
 * refused it (used, revoked) — the caller signs out.
 */
export function renewToken(): Promise<string | null> {
  renewing ??= (async () => {
    const refreshToken = tokenStore.refreshToken();
    if (!refreshToken) return null;
    try {
      const tokens = await api<OAuthTokens>('/auth/refresh', { method: 'POST', body: { refreshToken }, token: null });
      tokenStore.setOAuth(tokens);
      return tokens.accessToken;
    } catch {
      sessionStorage.removeItem(REFRESH_KEY);
      return null;
    }
  })().finally(() => {
    renewing = null;
  });
  return renewing;
}

/** The stored token, renewed first when it expires within a minute. */
async function currentToken(): Promise<string | null> {
  const expiresAt = tokenStore.expiresAt();
  if (expiresAt !== null && Date.now() > expiresAt - RENEW_EARLY_MS && tokenStore.refreshToken()) return (await renewToken()) ?? tokenStore.get();
  return tokenStore.get();
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}): Promise<T> {
  const stored = init.token === undefined || (init.token !== null && init.token === tokenStore.get());
  const token = init.token === undefined ? await currentToken() : init.token;
  const response = await call(path, init, token);
  // GitLab said the token expired (or was revoked by a renewal in another call): renew once, retry.
  if (response.status === 401 && stored && token && tokenStore.refreshToken()) {
    const renewed = token === tokenStore.get() ? await renewToken() : tokenStore.get();
    if (renewed) return answer<T>(await call(path, init, renewed));
  }
  return answer<T>(response);
}

async function call(path: string, init: { method?: string; body?: unknown }, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? null : JSON.stringify(init.body) });
  } catch {
    throw new ApiError(0, 'The bot cannot be reached; it may be restarting.');
  }
}

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, response.status));
  return body as T;
}

function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const { error, message } = body as { error?: unknown; message?: unknown };
    if (typeof error === 'string') return error;
    if (typeof message === 'string') return message;
  }
  return `The bot answered ${status}.`;
}
