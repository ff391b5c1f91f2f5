// Calls to the bot's API as the signed-in GitLab user: the token goes in `Authorization: Bearer`
// and the bot asks GitLab who it is. Errors carry the bot's own sentence.

import type { BoardRelease, ReleasePage } from '../../src/engine/board-view.js';
import type { ReleaseSummary } from '../../src/engine/release-view.js';

export type { BoardRelease, ReleasePage, ReleaseSummary };

const TOKEN_KEY = 'canarybot.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kept for the browser tab only (sessionStorage): closing the tab signs out. */
export const tokenStore = {
  get(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = init.token === undefined ? tokenStore.get() : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? null : JSON.stringify(init.body) });
  } catch {
    throw new ApiError(0, 'The bot cannot be reached; it may be restarting.');
  }
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
