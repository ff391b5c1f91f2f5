import { z } from 'zod';
import type { ChatRequest } from './chat-request.js';

export interface SlackEmailLookupOptions {
  /** A bot token with the `users:read.email` scope (SLACK_BOT_TOKEN). */
  token: string;
  /** Default https://slack.com/api */
  apiUrl?: string;
  fetch?: (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; json(): Promise<unknown> }>;
  timeoutMs?: number;
}

const usersInfo = z.object({ ok: z.boolean(), user: z.object({ profile: z.object({ email: z.string().optional() }).optional() }).optional() });

/**
 * Slack slash commands carry only `user_id`; Slack's `users.info` method gives the profile e-mail.
 * Returns null when Slack does not say (no scope, unknown user, outage), so the user is unmapped.
 */
export function createSlackEmailLookup(options: SlackEmailLookupOptions): (request: ChatRequest) => Promise<string | null> {
  const fetchFn = options.fetch ?? (globalThis.fetch as unknown as NonNullable<SlackEmailLookupOptions['fetch']>);
  const base = (options.apiUrl ?? 'https://slack.com/api').replace(/\/+$/, '');
  return async (request) => {
    if (request.channel !== 'slack') return null;
    try {
      const response = await fetchFn(`${base}/users.info?user=${encodeURIComponent(request.userId)}`, {
        headers: { authorization: `Bearer ${options.token}` },
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      if (response.status !== 200) return null;
      const body = usersInfo.safeParse(await response.json());
      return body.success && body.data.ok ? (body.data.user?.profile?.email ?? null) : null;
    } catch {
      return null;
    }
  };
}
