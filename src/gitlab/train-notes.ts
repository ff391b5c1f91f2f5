// One progress note per member MR of a release train, edited in place, each linked to the train
// summary. report() stores the desired body per (run, member) and schedules a sync through the
// write-back outbox (retries, write budget, coalescing, replicas); the sync creates or edits the
// note carrying the member's marker.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/connect-redis.js';
import { CanarybotError } from '../core/errors.js';
import { isTrainLive, type TrainMember, type TrainRun } from '../core/train/train-run.js';
import { waitLine } from './render-progress-note.js';
import type { GitLabApi } from './gitlab-api.js';
import { memberGitText, renderTrainSummary } from './render-train-summary.js';
import type { SyncOutcome, SyncTools } from './writeback-outbox.js';

export const TRAIN_SYNC_PREFIX = 'train:';
const STATE_TTL_MS = 30 * 86_400_000;

// Newer run versions only (updatedAt); an older report never overwrites a newer body.
const STORE = `
local v = redis.call('HGET', KEYS[1], 'version')
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'desired', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

interface DesiredNote {
  projectId: number;
  iid: number;
  marker: string;
  body: string;
}

export interface TrainNotesOptions {
  api: Pick<GitLabApi, 'createNote' | 'editNote' | 'listNotes' | 'currentUser'>;
  redis: RedisClient;
  prefix: string;
  schedule: (id: string) => Promise<void>;
  /** PUBLIC_URL: the summary link. */
  publicUrl?: string;
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

export function trainNoteMarker(runId: string, member: string): string {
  return `<!-- canarybot:train-member:${runId}:${member} -->`;
}

const STATE: Record<string, string> = { succeeded: '✅ promoted', 'rolled-back': '⏪ rolled back', aborted: '⏹ aborted', failed: '❌ failed' };

/** The member's own note: its part in the train first, then the whole train's summary. */
export function renderMemberNote(run: TrainRun, member: TrainMember, publicUrl?: string): string {
  const check = member.lastCheck;
  const summaryLink = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/api/trains/${run.id}?format=markdown` : null;
  const others = run.members.filter((other) => other.name !== member.name).map((other) => `${other.name} ${other.image ? `\`${other.image.split('/').pop()}\`` : '(stable)'}`);
  const lines = [
    trainNoteMarker(run.id, member.name),
    `### 🚂 \`${member.name}\` rides in release train \`${run.train.name}\` — ${STATE[run.state] ?? run.state}`,
    '',
    `This change, ${member.image ? `\`${member.image.split('/').pop()}\`` : 'none (rides on stable)'}, is released together with ${others.join(', ')}. ` +
      `Canary ${member.canary}, stable ${member.stable}` +
      (check ? `; last lane check ${check.verdict} with ${check.laneRequests ?? 'unknown'} lane requests${check.message ? ` — ${check.message}` : ''}` : '') +
      '.' +
      (memberGitText(member) ? ` ${memberGitText(member)}.` : ''),
    ...(run.wait && isTrainLive(run.state) ? ['', waitLine(run.wait)] : []),
    '',
    `**Train summary:** ${summaryLink ? `[${run.id}](${summaryLink})` : `run \`${run.id}\``} · commands: \`/canary train approve|promote|abort ${run.train.name}\``,
    '',
    '<details><summary>Train summary</summary>',
    '',
    renderTrainSummary(run),
    '</details>',
  ];
  return `${lines.join('\n')}\n`;
}

export class TrainNotes {
  private botUserId: number | null = null;

  constructor(private readonly o: TrainNotesOptions) {}

  private key(runId: string, member: string): string {
    return `${this.o.prefix}:wb:train:${runId}:${member}`;
  }

  /** Stores each member MR's desired note and schedules its sync; never throws. */
  async report(run: TrainRun): Promise<void> {
    for (const member of run.members.filter((candidate) => candidate.mr !== null)) {
      const mr = member.mr!;
      const desired: DesiredNote = { projectId: mr.projectId, iid: mr.iid, marker: trainNoteMarker(run.id, member.name), body: renderMemberNote(run, member, this.o.publicUrl) };
      try {
        await this.o.redis.eval(STORE, 1, this.key(run.id, member.name), String(run.updatedAt), JSON.stringify(desired), String(STATE_TTL_MS));
        await this.o.schedule(`${TRAIN_SYNC_PREFIX}${run.id}:${member.name}`);
      } catch (error) {
        this.o.logger?.warn({ trainRun: run.id, member: member.name, err: error instanceof Error ? error.message : String(error) }, 'train note not stored');
      }
    }
  }

  /** Bring one member's note in line with its newest desired body. */
  async sync(id: string, tools: SyncTools): Promise<SyncOutcome> {
    const split = id.lastIndexOf(':');
    const key = this.key(id.slice(0, split), id.slice(split + 1));
    const fields = await this.o.redis.hgetall(key);
    if (!fields.desired) return { kind: 'done' };
    const desired = JSON.parse(fields.desired) as DesiredNote;
    const hash = createHash('sha256').update(desired.body).digest('hex');
    if (fields.noteHash === hash) return { kind: 'done' };
    const wait = await tools.takeWrite();
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      let noteId: number | null = fields.noteId ? Number(fields.noteId) : await this.findNote(desired);
      if (noteId !== null) {
        try {
          await this.o.api.editNote(desired.projectId, desired.iid, noteId, desired.body);
        } catch (error) {
          if (!(error instanceof CanarybotError && error.code === 'GITLAB_REFUSED')) throw error;
          noteId = null; // deleted by a human: a fresh one
        }
      }
      noteId ??= (await this.o.api.createNote(desired.projectId, desired.iid, desired.body)).id;
      await this.o.redis.hset(key, 'noteId', String(noteId), 'noteHash', hash);
      return { kind: 'done' };
    } catch (error) {
      if (error instanceof CanarybotError && error.code === 'GITLAB_REFUSED') {
        this.o.logger?.warn({ id, err: error.message }, 'gitlab refused a train note');
        await this.o.redis.hset(key, 'noteHash', hash);
        return { kind: 'done' };
      }
      this.o.logger?.debug({ id, err: error instanceof Error ? error.message : String(error) }, 'train note write failed');
      return { kind: 'transient' };
    }
  }

  private async findNote(desired: DesiredNote): Promise<number | null> {
    this.botUserId ??= (await this.o.api.currentUser()).id;
    const notes = await this.o.api.listNotes(desired.projectId, desired.iid);
    return notes.find((note) => note.author.id === this.botUserId && !note.system && note.body.startsWith(desired.marker))?.id ?? null;
  }
}
