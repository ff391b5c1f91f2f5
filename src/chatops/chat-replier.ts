import type { Logger } from 'pino';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';
import { hostOf, postWithRetries, type FetchLike } from './post-json.js';

export interface ChatReplierOptions {
  /** Replies for other channels (the GitLab thread replier), when this one is the only replier wired. */
  fallback?: CommandReplier;
  fetch?: FetchLike;
  logger?: Pick<Logger, 'warn'>;
  /** Default 3 attempts, 500 ms base backoff, 5 s per attempt. */
  retry?: { attempts: number; baseDelayMs: number; timeoutMs: number };
}

/**
 * Answers chat commands through their `response_url` (Slack and Mattermost take the same shape).
 * Accepted commands are shown to the channel (`in_channel`) so everyone sees who moved a release;
 * refusals and read answers stay with the user who asked (`ephemeral`). Never throws.
 */
export function createChatReplier(options: ChatReplierOptions = {}): CommandReplier {
  const fetchFn = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const retry = options.retry ?? { attempts: 3, baseDelayMs: 500, timeoutMs: 5_000 };
  return {
    async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
      if (target.channel === 'gitlab' || target.channel === 'api') {
        await options.fallback?.reply(target, outcome).catch(() => undefined);
        return;
      }
      const body = { response_type: outcome.ok && outcome.releaseId ? 'in_channel' : 'ephemeral', text: outcome.message };
      const result = await postWithRetries(fetchFn, target.responseUrl, body, retry);
      if (!result.ok) options.logger?.warn({ channel: target.channel, host: hostOf(target.responseUrl), status: result.status }, 'chat reply not delivered');
    },
  };
}
