// The live connection to `GET /api/events`. EventSource cannot send an Authorization header, so
// this reads the stream with fetch and parses it (./sse.ts); like EventSource it reconnects on its
// own, after the server's `retry` with a capped backoff, and the snapshot the server sends first
// on every connection is the resync after a bot restart.

import { SseParser, type SseEvent } from './sse.js';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface LiveOptions {
  url: string;
  token: () => string | null;
  onEvent: (event: SseEvent) => void;
  onStatus: (status: LiveStatus) => void;
  /** A 401 first tries this (renew an expired GitLab token); true: connect again with the new token. */
  renew?: () => Promise<boolean>;
  /** The server refused the token (401/403): no reconnect until signed in again. */
  onRefused: (status: number, message: string) => void;
  fetch?: typeof fetch;
  /** Longest wait between two attempts (default 15 s). */
  maxDelayMs?: number;
}

export interface LiveConnection {
  close(): void;
}

export function connectLive(options: LiveOptions): LiveConnection {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const maxDelay = options.maxDelayMs ?? 15_000;
  let closed = false;
  let controller: AbortController | null = null;
  let wake: (() => void) | null = null;

  const run = async (): Promise<void> => {
    let failures = 0;
    let retryMs = 1_000;
    // One renewal per refusal: a bot that refuses the new token too gets onRefused.
    let renewed = false;
    while (!closed) {
      options.onStatus(failures === 0 ? 'connecting' : 'reconnecting');
      controller = new AbortController();
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        const token = options.token();
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await doFetch(options.url, { headers, signal: controller.signal, cache: 'no-store' });
        if (response.status === 401 && options.renew && !renewed && (await options.renew())) {
          renewed = true;
          continue;
        }
        if (response.status === 401 || response.status === 403) {
          options.onRefused(response.status, await errorSentence(response));
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let first = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.feed(value)) {
            if (first) {
              first = false;
              failures = 0;
              renewed = false;
              options.onStatus('live');
            }
            options.onEvent(event);
          }
          if (parser.retryMs !== null) retryMs = parser.retryMs;
        }
      } catch {
        // Network error, bot restarting, stream cut: try again below.
      }
      if (closed) return;
      failures += 1;
      options.onStatus('reconnecting');
      const delay = Math.min(maxDelay, retryMs * 2 ** Math.min(failures - 1, 4));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay * (0.5 + Math.random() / 2));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  };
  void run();

  return {
    close() {
      closed = true;
      controller?.abort();
      wake?.();
    },
  };
}

async function errorSentence(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return `the bot answered ${response.status}`;
}
