// Commands the intake (MR comments, chat) refused before there was a release to record them: an
// unknown or malformed command, a chat user mapped to no GitLab user, an MR or service with no live
// release. (A refusal by a release's approvals policy goes into that release's audit through the
// engine.) They are kept here, a capped Redis list; GET /api/audit streams them with the releases'.

import type { Actor } from '../core/release.js';
import type { RedisClient } from '../redis/connect-redis.js';

/** As in a release's audit; `username` is null for a chat user mapped to no GitLab user. */
export type IntakeActor = Omit<Actor, 'username'> & { username: string | null };

export interface IntakeRefusal {
  actor: IntakeActor | null;
  /** The verb as parsed, or `unknown` when the text was not a command the bot knows. */
  verb: string;
  /** The sentence the person was answered with. */
  sentence: string;
  /** The service named in a chat command, when there was one. */
  service?: string;
  /** The MR the comment was written on. */
  mr?: { projectId: number; iid: number };
}

export interface IntakeAuditEntry extends IntakeRefusal {
  at: number;
  action: 'refused';
}

export interface IntakeAudit {
  record(refusal: IntakeRefusal): Promise<void>;
  /** Entries at or after `since` (epoch ms), oldest first. */
  since(since: number): Promise<IntakeAuditEntry[]>;
}

export interface IntakeAuditOptions {
  redis: Pick<RedisClient, 'multi' | 'lrange'>;
  prefix: string;
  /** Entries kept, newest (default 10,000): the list never grows past it. */
  keep?: number;
  now?: () => number;
}

/** Long enough for any sentence the bot writes; user text inside it is cut, never stored whole. */
const MAX_SENTENCE = 500;

export function intakeAuditKey(prefix: string): string {
  return `${prefix}:audit:intake`;
}

export function createIntakeAudit(options: IntakeAuditOptions): IntakeAudit {
  const key = intakeAuditKey(options.prefix);
  const keep = options.keep ?? 10_000;
  const now = options.now ?? Date.now;
  return {
    async record(refusal) {
      const entry: IntakeAuditEntry = { at: now(), action: 'refused', ...refusal, sentence: refusal.sentence.slice(0, MAX_SENTENCE) };
      await options.redis.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, keep - 1).exec();
    },
    async since(since) {
      const raw = await options.redis.lrange(key, 0, -1);
      const entries: IntakeAuditEntry[] = [];
      for (const text of raw) {
        const entry = JSON.parse(text) as IntakeAuditEntry;
        if (entry.at >= since) entries.push(entry);
      }
      return entries.reverse();
    },
  };
}
