// Who the bot is on GitLab (GET /user of its token): its own notes are never commands. Asked in the
// background, so a pod that restarts during a GitLab outage still starts, takes alerts and rolls
// back; until GitLab answers, MR-comment commands are answered 503 (GitLab redelivers them) and
// `/readyz?verbose` says why.

import type { Logger } from 'pino';
import { backoffDelayMs, type Backoff } from '../core/backoff.js';
import type { GitLabApi } from './gitlab-api.js';

export interface BotIdentityStatus {
  known: boolean;
  username?: string;
  /** Failed GET /user calls so far. */
  failures: number;
  lastError?: string;
}

export interface BotIdentity {
  /** The bot's GitLab username, or null while GitLab has not answered yet. */
  username(): string | null;
  status(): BotIdentityStatus;
  /** Starts asking (idempotent); retries with capped, jittered backoff until GitLab answers. */
  start(): void;
  stop(): void;
}

export interface BotIdentityOptions {
  gitlab: Pick<GitLabApi, 'currentUser'>;
  /** Already known (tests, the demo): nothing is asked. */
  username?: string;
  /** Shown in the log line, never with credentials. */
  where?: string;
  backoff?: Backoff;
  random?: () => number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, capMs: 30_000 };

export function createBotIdentity(options: BotIdentityOptions): BotIdentity {
  let username: string | null = options.username ?? null;
  let failures = 0;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | null = null;
  let started = false;
  let stopped = false;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;

  const ask = async (): Promise<void> => {
    timer = null;
    if (stopped || username !== null) return;
    try {
      username = (await options.gitlab.currentUser()).username;
      options.logger?.info({ username, failures }, 'bot identity known');
    } catch (error) {
      failures++;
      lastError = (error as Error).message;
      const delay = Math.max(100, backoffDelayMs(failures, backoff, random));
      options.logger?.warn({ where: options.where, err: lastError, failures, retryInMs: delay }, "cannot identify the bot's GitLab user (GET /user); MR-comment commands wait until it answers");
      if (!stopped) {
        timer = setTimeout(() => void ask(), delay);
        timer.unref();
      }
    }
  };

  return {
    username: () => username,
    status: () => ({
      known: username !== null,
      ...(username !== null ? { username } : {}),
      failures,
      ...(lastError !== undefined && username === null ? { lastError } : {}),
    }),
    start() {
      if (started || username !== null) return;
      started = true;
      void ask();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
