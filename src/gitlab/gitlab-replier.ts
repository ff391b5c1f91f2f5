// The CommandReplier port for commands given in MR comments: the outcome goes back into the
// comment's discussion when it has one, else as a new note. reply() only queues the reply in
// Redis; the write-back outbox sends it with the same retries and write budget as the reporter.

import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import { CanarybotError } from '../core/errors.js';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';
import type { GitLabApi } from './gitlab-api.js';
import type { SyncOutcome, SyncTools } from './writeback-outbox.js';

export interface GitLabReplierOptions {
  api: GitLabApi;
  redis: RedisClient;
  prefix: string;
  schedule: (id: string) => Promise<void>;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** How long an undelivered reply is kept (default 1 day). */
  replyTtlMs?: number;
}

type GitLabTarget = Extract<ReplyTarget, { channel: 'gitlab' }>;

interface QueuedReply {
  target: GitLabTarget;
  body: string;
}

export const REPLY_SYNC_PREFIX = 'reply:';

export function replyBody(outcome: CommandOutcome): string {
  return `${outcome.ok ? '✅' : '⛔'} ${outcome.message}`;
}

export class GitLabReplier implements CommandReplier {
  constructor(private readonly o: GitLabReplierOptions) {}

  private key(id: string): string {
    return `${this.o.prefix}:wb:reply:${id}`;
  }

  async reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void> {
    if (target.channel !== 'gitlab') {
      this.o.logger?.warn({ channel: target.channel }, 'gitlab replier given a chat target');
      return;
    }
    try {
      const id = randomUUID();
      const queued: QueuedReply = { target, body: replyBody(outcome) };
      await this.o.redis.set(this.key(id), JSON.stringify(queued), 'PX', this.o.replyTtlMs ?? 86_400_000);
      await this.o.schedule(`${REPLY_SYNC_PREFIX}${id}`);
    } catch (error) {
      this.o.logger?.warn({ releaseId: outcome.releaseId, err: error }, 'gitlab reply not queued');
    }
  }

  async sync(id: string, tools: SyncTools): Promise<SyncOutcome> {
    const raw = await this.o.redis.get(this.key(id));
    if (!raw) return { kind: 'done' };
    const { target, body } = JSON.parse(raw) as QueuedReply;
    const wait = await tools.takeWrite();
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      if (target.discussionId) {
        try {
          await this.o.api.createDiscussionNote(target.projectId, target.mrIid, target.discussionId, body);
        } catch (error) {
          if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) throw error;
          // The thread is gone or cannot take replies: answer on the MR instead.
          await this.o.api.createNote(target.projectId, target.mrIid, body);
        }
      } else {
        await this.o.api.createNote(target.projectId, target.mrIid, body);
      }
    } catch (error) {
      if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) return { kind: 'transient' };
      this.o.logger?.warn({ projectId: target.projectId, mrIid: target.mrIid, err: error.message }, 'gitlab refused a command reply');
    }
    await this.o.redis.del(this.key(id));
    return { kind: 'done' };
  }
}
