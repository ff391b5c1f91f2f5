// Composition of the GitLab write-back: one outbox (retries, coalescing, write budget) serving
// the Reporter and the CommandReplier ports.

import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import type { GitLabApi } from './gitlab-api.js';
import { GitLabReplier, REPLY_SYNC_PREFIX } from './gitlab-replier.js';
import { GitLabReporter, RELEASE_SYNC_PREFIX } from './gitlab-reporter.js';
import type { ProgressNoteLinks } from './render-progress-note.js';
import { TrainNotes, TRAIN_SYNC_PREFIX } from './train-notes.js';
import { WritebackOutbox, type WritebackOutboxOptions } from './writeback-outbox.js';

export interface GitLabWritebackOptions {
  api: GitLabApi;
  redis: RedisClient;
  /** Redis key prefix. */
  prefix: string;
  links?: ProgressNoteLinks;
  /** GITLAB_WRITES_PER_MINUTE (default 60). */
  writesPerMinute?: number;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** Tuning of the outbox (poll interval, backoff, window); defaults suit production. */
  outbox?: Pick<WritebackOutboxOptions, 'pollMs' | 'leaseMs' | 'backoffBaseMs' | 'backoffMaxMs' | 'windowMs'>;
}

export interface GitLabWriteback {
  reporter: GitLabReporter;
  replier: GitLabReplier;
  /** Release trains: one progress note per member MR. */
  trainNotes: TrainNotes;
  /** Start the sync loop (call once per process). */
  start(): void;
  /** Stop the loop and wait for the sync in progress. */
  close(): Promise<void>;
}

export function createGitLabWriteback(options: GitLabWritebackOptions): GitLabWriteback {
  const { api, redis, prefix, logger } = options;
  let reporter: GitLabReporter | null = null;
  let replier: GitLabReplier | null = null;
  let trainNotes: TrainNotes | null = null;
  const outbox = new WritebackOutbox(
    { redis, prefix, writesPerWindow: options.writesPerMinute ?? 60, ...options.outbox, ...(logger ? { logger } : {}) },
    async (id, tools) => {
      if (id.startsWith(RELEASE_SYNC_PREFIX) && reporter) return reporter.sync(id.slice(RELEASE_SYNC_PREFIX.length), tools);
      if (id.startsWith(REPLY_SYNC_PREFIX) && replier) return replier.sync(id.slice(REPLY_SYNC_PREFIX.length), tools);
      if (id.startsWith(TRAIN_SYNC_PREFIX) && trainNotes) return trainNotes.sync(id.slice(TRAIN_SYNC_PREFIX.length), tools);
      return { kind: 'done' };
    },
  );
  const schedule = (id: string) => outbox.schedule(id);
  reporter = new GitLabReporter({ api, redis, prefix, schedule, ...(options.links ? { links: options.links } : {}), ...(logger ? { logger } : {}) });
  replier = new GitLabReplier({ api, redis, prefix, schedule, ...(logger ? { logger } : {}) });
  const publicUrl = options.links?.publicUrl;
  trainNotes = new TrainNotes({ api, redis, prefix, schedule, ...(publicUrl ? { publicUrl } : {}), ...(logger ? { logger } : {}) });
  return {
    reporter,
    replier,
    trainNotes,
    start: () => outbox.start(),
    close: () => outbox.close(),
  };
}
