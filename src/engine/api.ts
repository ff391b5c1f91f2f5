// What the rest of the bot (webhook and chat intake, HTTP read API, CLI) may ask of the engine.
// Everything here enqueues or reads; nothing waits for a release to move.

import type { ActingVerb } from '../core/command.js';
import type { ReplyTarget } from '../core/ports.js';
import type { Actor, Release, ReleaseTrigger } from '../core/release.js';

export interface TriggerResult {
  /** true when a job was enqueued (the HTTP answer is then 202). */
  enqueued: boolean;
  /** Why nothing was enqueued (duplicate delivery, same image already rolling out, …). */
  ignored?: string;
}

export interface CommandRequest {
  verb: ActingVerb;
  /** Already authorized by the intake (GitLab members / chat identity + approvals policy). */
  actor: Actor;
  releaseId: string;
  /** The step the release was on when the command was given; approvals bind to it. */
  stepIndex: number;
  /** When the person wrote it (MR comment created_at, chat/API receipt), epoch ms: an approval asked for later is refused. */
  writtenAt?: number;
  reason?: string;
  /**
   * The intake refused the command (approvals policy) with this sentence: the engine records it in
   * the release's audit and replies with it; the release does not move.
   */
  refusal?: string;
  replyTo?: ReplyTarget;
}

export interface AlertRequest {
  name: string;
  labels: Record<string, string>;
  startsAt: string;
  fingerprint: string;
  source: string;
}

export interface ReleaseQuery {
  state?: 'live';
  service?: string;
  limit?: number;
}

/** Past (or all) releases for the history page: filters and a cursor, newest first. */
export interface HistoryQuery {
  service?: string;
  /** Only releases that have ended. */
  ended?: boolean;
  /** Only releases that ended in this state. */
  outcome?: string;
  /** GitLab username that triggered, authored the MR of, or acted on the release (case-insensitive). */
  user?: string;
  /** Created at or after / at or before (epoch ms). */
  from?: number;
  to?: number;
  /** `next` of the previous page. */
  before?: string;
  limit: number;
}

export interface HistoryPage {
  releases: Release[];
  /** Cursor of the next (older) page; null when there is none. */
  next: string | null;
}

export interface ReleaseHistory {
  history(query: HistoryQuery): Promise<HistoryPage>;
}

export interface ReleaseReader {
  get(id: string): Promise<Release | null>;
  /** Newest first. */
  list(query?: ReleaseQuery): Promise<Release[]>;
  /** The live release of an MR (by the MR's project id and iid), if any. */
  findLiveByMergeRequest(projectId: number, iid: number): Promise<Release | null>;
  /** The newest release of an MR, live or not (for retry and status). */
  findLatestByMergeRequest(projectId: number, iid: number): Promise<Release | null>;
}

export interface ReleaseEngine extends ReleaseReader {
  trigger(trigger: ReleaseTrigger, options?: { idempotencyKey?: string }): Promise<TriggerResult>;
  /** Enqueue a command; abort jumps the line. The outcome is sent to `replyTo`. */
  command(request: CommandRequest): Promise<void>;
  /**
   * Abort every live release whose definition's alert matchers all match; idempotent per (alert,
   * release): a re-sent alert aborts a release that started after it first fired. Returns every
   * live release the alert matches.
   */
  alert(alert: AlertRequest): Promise<{ releaseIds: string[] }>;
  /** `alert` for one payload's alerts at once: live releases read once, matching yields to the event loop. */
  alertBatch(alerts: readonly AlertRequest[]): Promise<{ releaseIds: string[] }>;
}
