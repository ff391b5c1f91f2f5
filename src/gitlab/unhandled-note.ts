// An MR comment whose intake ran out of tries (GitLab or the engine away for longer than the intake's
// retry budget) is never dropped in silence: the author is answered in the comment's thread — the
// reply waits in the write-back outbox until GitLab takes it — and the give-up is audited and
// logged with the same sentence. Nothing is run: the command is stale, and the author decides.

import type { Logger } from 'pino';
import { parseCommand } from '../core/parse-command.js';
import type { CommandReplier, ReplyTarget } from '../core/ports.js';
import type { NoteDeps } from './handle-note.js';
import type { NoteIntake } from './intake-job.js';

export interface UnhandledNoteDeps {
  replier: CommandReplier;
  audit?: NoteDeps['audit'];
  logger?: Logger;
}

export interface UnhandledNote {
  kind: 'unhandled';
  sentence: string;
}

/** The sentence the author is answered with; it never repeats the comment's text, only a known verb. */
export function unhandledNoteSentence(job: NoteIntake, tries: number, triedForMs: number): string {
  const parsed = parseCommand(job.note.firstLine, { requireService: false });
  const what = parsed.kind === 'command' ? `\`/canary ${parsed.command.verb}\`` : 'This `/canary` command';
  const span = triedForMs >= 60_000 ? `${Math.round(triedForMs / 60_000)} min` : `${Math.max(1, Math.round(triedForMs / 1000))} s`;
  return `${what} was not handled: canarybot could not reach GitLab or its engine in ${tries} tries over ${span}, so nothing was changed. Write the command again if it still applies.`;
}

export async function answerUnhandledNote(job: NoteIntake, error: unknown, tries: number, triedForMs: number, deps: UnhandledNoteDeps): Promise<UnhandledNote> {
  const sentence = unhandledNoteSentence(job, tries, triedForMs);
  const { mr, note } = job;
  deps.logger?.error({ err: error, projectId: mr.projectId, mrIid: mr.iid, noteId: note.id, author: job.author.username, tries }, sentence);
  const parsed = parseCommand(note.firstLine, { requireService: false });
  await deps.audit?.record({
    actor: { username: job.author.username, userId: job.author.id, channel: 'gitlab' },
    verb: parsed.kind === 'command' ? parsed.command.verb : 'unknown',
    sentence,
    mr: { projectId: mr.projectId, iid: mr.iid },
  });
  const target: ReplyTarget = { channel: 'gitlab', projectId: mr.projectId, mrIid: mr.iid, noteId: note.id, ...(note.discussionId ? { discussionId: note.discussionId } : {}) };
  await deps.replier.reply(target, { ok: false, message: sentence });
  return { kind: 'unhandled', sentence };
}
