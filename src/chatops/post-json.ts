export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number }>;

export type PostResult = { ok: true } | { ok: false; retry: boolean; status: number | null };

/**
 * POSTs a JSON message to a chat endpoint. Never throws: a network error, a timeout, 429 or 5xx
 * are worth retrying; other 4xx are not (the URL or message is wrong and will stay wrong).
 */
export async function postJson(fetchFn: FetchLike, url: string, body: unknown, timeoutMs: number): Promise<PostResult> {
  try {
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return { ok: false, retry: response.status === 429 || response.status >= 500, status: response.status };
  } catch {
    return { ok: false, retry: true, status: null };
  }
}

/** Sends with bounded retries and exponential backoff; resolves to the last result. */
export async function postWithRetries(
  fetchFn: FetchLike,
  url: string,
  body: unknown,
  options: { attempts: number; baseDelayMs: number; timeoutMs: number },
): Promise<PostResult> {
  let result: PostResult = { ok: false, retry: true, status: null };
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    if (attempt > 0) await sleep(options.baseDelayMs * 2 ** (attempt - 1));
    result = await postJson(fetchFn, url, body, options.timeoutMs);
    if (result.ok || !result.retry) return result;
  }
  return result;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The host of a URL, for logs: webhook URLs carry their secret in the path. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}
