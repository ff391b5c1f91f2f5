// The CLI's side of the HTTP API: CANARYBOT_URL and CANARYBOT_TOKEN (the user's GitLab token), one
// error type whose exit code says usage/configuration (2) or refused/failed (1).

import type { CliIo } from './io.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export function apiClient(io: CliIo, fetchFn: typeof fetch = fetch): ApiClient {
  const url = io.env.CANARYBOT_URL?.replace(/\/+$/, '');
  const token = io.env.CANARYBOT_TOKEN;
  if (!url) throw new CliError('CANARYBOT_URL is not set: the address of canarybot, e.g. https://canarybot.example.com', 2);
  if (!/^https?:\/\//.test(url)) throw new CliError(`CANARYBOT_URL must be an http(s) URL (got ${JSON.stringify(url)})`, 2);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetchFn(`${url}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new CliError(`cannot reach canarybot at ${url}: ${(error as Error).message}`, 1);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    if (response.status === 401) {
      const sentence = (parsed as { error?: string } | null)?.error ?? 'unauthorized';
      throw new CliError(`${sentence}${token ? '' : ' (set CANARYBOT_TOKEN to your GitLab access token)'}`, token ? 1 : 2);
    }
    return { status: response.status, body: parsed };
  }

  return {
    async get<T>(path: string): Promise<T> {
      const { status, body } = await call('GET', path);
      if (status >= 400) throw new CliError((body as { error?: string } | null)?.error ?? `canarybot answered ${status}`, 1);
      return body as T;
    },
    async post<T>(path: string, body: unknown) {
      const answer = await call('POST', path, body);
      if (answer.status >= 400 && answer.status !== 403 && answer.status !== 409) {
        const message = (answer.body as { error?: string; message?: string } | null);
        throw new CliError(message?.error ?? message?.message ?? `canarybot answered ${answer.status}`, answer.status === 400 ? 2 : 1);
      }
      return answer as { status: number; body: T };
    },
  };
}
