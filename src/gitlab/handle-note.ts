// Intake of a `/canary` MR comment: acknowledge, parse, find the release, authorize the author
// against the release's approvals policy, then hand the command to the engine (which replies with
// the outcome) or reply here (refusals, status, help).

import type { Logger } from 'pino';
import type { ActingVerb } from '../core/command.js';
import { HELP_TEXT, parseCommand, parseTrainCommand } from '../core/parse-command.js';
import { actOnTrainCommand, startTrainCommand, type TrainStartDeps } from '../engine/train-commands.js';
import type { CommandOutcome, CommandReplier, ReplyTarget } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { ReleaseEngine } from '../engine/api.js';
import type { IntakeAudit } from '../engine/intake-audit.js';
import { authorizeActor } from './authorize-actor.js';
import { describeRelease } from './describe-release.js';
import type { GitLabApi } from './gitlab-api.js';
import type { NoteIntake } from './intake-job.js';

export interface NoteDeps {
  engine: Pick<ReleaseEngine, 'command' | 'findLiveByMergeRequest' | 'findLatestByMergeRequest' | 'list'>;
  gitlab: Pick<GitLabApi, 'awardEmoji' | 'memberAccessLevel' | 'groupMemberAccessLevel' | 'getMergeRequest'>;
  replier: CommandReplier;
  publicUrl?: string;
  logger?: Logger;
  /** Release trains (`/canary train start`); absent: none configured. */
  trains?: Omit<TrainStartDeps, 'gitlab'> | undefined;
  /** Records the refusals that have no release to be audited on (unknown command, no live release), for GET /api/audit. */
  audit?: Pick<IntakeAudit, 'record'> | undefined;
}

export type NoteOutcome =
  | { kind: 'commanded'; verb: ActingVerb; releaseId: string }
  | { kind: 'replied'; outcome: CommandOutcome }
  | { kind: 'ignored'; reason: string };

/** Verbs that act on the newest release even when it has ended. */
const LATEST_VERBS: ReadonlySet<string> = new Set(['retry', 'status']);

export async function handleNote(job: NoteIntake, deps: NoteDeps): Promise<NoteOutcome> {
  const { mr, note } = job;
  const log = deps.logger?.child({ projectId: mr.projectId, mrIid: mr.iid, noteId: note.id });
  const target: ReplyTarget = {
    channel: 'gitlab',
    projectId: mr.projectId,
    mrIid: mr.iid,
    noteId: note.id,
    ...(note.discussionId ? { discussionId: note.discussionId } : {}),
  };
  const reply = async (outcome: CommandOutcome): Promise<NoteOutcome> => {
    await deps.replier.reply(target, outcome);
    return { kind: 'replied', outcome };
  };
  const actor = { username: job.author.username, userId: job.author.id, channel: 'gitlab' } as const;
  // Audited before the answer: a failed record retries the job before anyone was answered.
  const refuse = async (verb: string, message: string, auditSentence = message): Promise<NoteOutcome> => {
    await deps.audit?.record({ actor, verb, sentence: auditSentence, mr: { projectId: mr.projectId, iid: mr.iid } });
    return reply({ ok: false, message });
  };

  // The acknowledgement is a courtesy: a GitLab hiccup (or an emoji already awarded by an earlier
  // attempt of this job) must not stop the command.
  await deps.gitlab.awardEmoji(mr.projectId, mr.iid, note.id, 'eyes').catch((error: unknown) => {
    log?.warn({ err: error }, 'could not award the acknowledgement emoji');
  });

  const train = parseTrainCommand(note.firstLine, { requireService: false });
  if (train.kind === 'invalid') return refuse('train', train.message);
  if (train.kind === 'train-start') {
    if (!deps.trains || deps.trains.runner.trains.length === 0) return refuse('train', 'No release trains are defined, so there is no train to start.');
    // GitLab errors here fail the job, which BullMQ retries: never an allowance by accident.
    const answer = await startTrainCommand(
      { ...deps.trains, gitlab: deps.gitlab },
      {
        command: train.command,
        actor: { username: job.author.username, userId: job.author.id, channel: 'gitlab' },
        mr: {
          ref: { projectId: mr.projectId, iid: mr.iid, ...(mr.authorId === job.author.id ? { authorUsername: job.author.username } : {}) },
          project: job.project,
        },
      },
    );
    return reply({ ok: answer.ok, message: answer.message });
  }
  if (train.kind === 'train-act') {
    const runner = deps.trains?.runner;
    if (!runner?.findLive || !runner.find || !runner.command) return refuse('train', 'No release trains are defined, so there is no train to act on.');
    const answer = await actOnTrainCommand(
      { runner: { findLive: runner.findLive.bind(runner), find: runner.find.bind(runner), command: runner.command.bind(runner) }, gitlab: deps.gitlab, ...(deps.trains?.logger ? { logger: deps.trains.logger } : {}) },
      { command: train.command, actor },
    );
    return reply({ ok: answer.ok, message: answer.message });
  }

  const parsed = parseCommand(note.firstLine, { requireService: false });
  if (parsed.kind === 'none') return { kind: 'ignored', reason: 'not a /canary command' };
  if (parsed.kind === 'invalid') return refuse('unknown', parsed.message, firstParagraph(parsed.quietMessage));
  const { verb, reason } = parsed.command;
  if (verb === 'help') return reply({ ok: true, message: HELP_TEXT });
  if (verb === 'list') return reply({ ok: true, message: await listLive(deps) });

  const release = LATEST_VERBS.has(verb)
    ? await deps.engine.findLatestByMergeRequest(mr.projectId, mr.iid)
    : await deps.engine.findLiveByMergeRequest(mr.projectId, mr.iid);
  if (!release) {
    const what = LATEST_VERBS.has(verb) ? 'no canarybot release' : 'no live canarybot release';
    return refuse(verb, `This merge request has ${what}, so there is nothing to ${verb}.`);
  }
  if (verb === 'status') return reply({ ok: true, message: describeRelease(release, deps.publicUrl), releaseId: release.id });

  // GitLab errors here fail the job, which BullMQ retries: never an allowance by accident.
  const mrAuthor = await mergeRequestAuthor(job, release, deps);
  const decision = await authorizeActor(deps.gitlab, {
    verb,
    policy: release.definition.approvals,
    project: job.project.id,
    actor: { username: job.author.username, userId: job.author.id },
    ...(mrAuthor !== undefined ? { mrAuthor } : {}),
  });
  const command = {
    verb,
    actor,
    releaseId: release.id,
    stepIndex: release.stepIndex,
    ...(job.note.createdAt !== undefined ? { writtenAt: job.note.createdAt } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
  if (!decision.allowed) {
    log?.info({ verb, rule: decision.rule, actor: job.author.username }, 'command refused');
    const refusal = `Refused by ${decision.message}`;
    // Into the release's audit (the core changes nothing else); answered here, not by the engine.
    await deps.engine.command({ ...command, refusal });
    return reply({ ok: false, message: refusal, releaseId: release.id });
  }

  await deps.engine.command({ ...command, replyTo: target });
  log?.info({ verb, releaseId: release.id, actor: job.author.username }, 'command handed to the engine');
  return { kind: 'commanded', verb, releaseId: release.id };
}

/** A refusal's sentence without the help text after it. */
function firstParagraph(text: string): string {
  return text.split('\n\n')[0] ?? text;
}

/** The MR author's username, from the cheapest source that knows it. */
async function mergeRequestAuthor(job: NoteIntake, release: Release, deps: NoteDeps): Promise<string | undefined> {
  // The hook names the author by id; when it is someone else the name does not matter.
  if (job.mr.authorId !== undefined) return job.mr.authorId === job.author.id ? job.author.username : undefined;
  if (release.mr?.authorUsername) return release.mr.authorUsername;
  const mr = await deps.gitlab.getMergeRequest(job.mr.projectId, job.mr.iid);
  return mr?.author.username;
}

async function listLive(deps: NoteDeps): Promise<string> {
  const live = await deps.engine.list({ state: 'live', limit: 20 });
  if (live.length === 0) return 'No live releases.';
  return live.map((r) => `- **${r.service}** \`${r.image}\`: ${r.state}, canary ${r.weights.canary} %`).join('\n');
}
