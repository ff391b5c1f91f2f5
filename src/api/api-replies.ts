// The outcome of a command given over HTTP goes back to the request that gave it. The engine may run
// in another process, so the reply goes through Redis: the replier stores it under the request's
// id, the route waits for it (a short poll, bounded by the route's timeout).

import type { Redis } from 'ioredis';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';

export interface ApiReplies {
  /** The engine's replier for `channel: 'api'` targets. Never throws. */
  replier: CommandReplier;
  /** The outcome for `requestId`, or null when none came within `timeoutMs`. */
  wait(requestId: string, timeoutMs: number): Promise<CommandOutcome | null>;
}

export interface ApiRepliesOptions {
  redis: Pick<Redis, 'set' | 'getdel'>;
  prefix: string;
  /** How long an outcome nobody collected is kept (default 5 min). */
  ttlMs?: number;
  /** Poll interval while waiting (default 50 ms). */
  pollMs?: number;
}

export function createApiReplies(options: ApiRepliesOptions): ApiReplies {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const pollMs = options.pollMs ?? 50;
  const key = (requestId: string): string => `${options.prefix}:api-reply:${requestId}`;

  return {
    replier: {
      async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
        if (target.channel !== 'api') return;
        await options.redis.set(key(target.requestId), JSON.stringify(outcome), 'PX', ttlMs).catch(() => undefined);
      },
    },
    async wait(requestId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const raw = await options.redis.getdel(key(requestId)).catch(() => null);
        if (raw) return JSON.parse(raw) as CommandOutcome;
        if (Date.now() + pollMs > deadline) return null;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  };
}
