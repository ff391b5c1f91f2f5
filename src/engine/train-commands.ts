// `/canary train start <train> [member=tag …]` from an MR comment or chat: the tags become the
// members' images, the MR (when the command is written on one) is attached to its member, every
// member bringing a new image applies its own approvals policy to the actor, then the runner starts.

import type { Logger } from 'pino';
import type { Actor, MergeRequestRef } from '../core/release.js';
import type { TrainActCommand, TrainStartCommand } from '../core/parse-command.js';
import { trainStatus } from '../chatops/format-train.js';
import type { TrainMemberStart } from '../core/train/train-run.js';
import { authorizeActor } from '../gitlab/authorize-actor.js';
import type { GitLabApi } from '../gitlab/gitlab-api.js';
import type { ProjectRef } from '../gitlab/intake-job.js';
import { watchesProject } from '../gitlab/watches-project.js';
import type { TrainRunner } from './train-runner.js';

export interface TrainStartDeps {
  /** `findLive`/`find`/`command` serve the train-level commands (approve, abort, promote, status). */
  runner: Pick<TrainRunner, 'start' | 'trains' | 'definitions'> & Partial<Pick<TrainRunner, 'findLive' | 'find' | 'command'>>;
  gitlab: Pick<GitLabApi, 'memberAccessLevel' | 'groupMemberAccessLevel'>;
  logger?: Pick<Logger, 'info'>;
}

export interface TrainStartRequest {
  command: TrainStartCommand;
  actor: Actor & { userId: number };
  /** The MR the command was written on, with its project. */
  mr?: { ref: MergeRequestRef; project: ProjectRef } | undefined;
}

export type TrainStartAnswer = { ok: true; message: string; runId: string } | { ok: false; message: string };

export async function startTrainCommand(deps: TrainStartDeps, request: TrainStartRequest): Promise<TrainStartAnswer> {
  const answer = await decideStart(deps, request);
  deps.logger?.info({ train: request.command.train, actor: request.actor.username, channel: request.actor.channel, ok: answer.ok, answer: answer.message }, 'train start command');
  return answer;
}

async function decideStart(deps: TrainStartDeps, request: TrainStartRequest): Promise<TrainStartAnswer> {
  const { command, actor, mr } = request;
  const train = deps.runner.trains.find((candidate) => candidate.name === command.train);
  if (!train) {
    const names = deps.runner.trains.map((candidate) => candidate.name).join(', ') || 'none';
    return { ok: false, message: `There is no release train ${command.train} (trains: ${names}).` };
  }
  const definitionOf = (name: string) => deps.runner.definitions.find((definition) => definition.name === name);
  const mrMember = mr ? train.members.find((name) => { const d = definitionOf(name); return d !== undefined && watchesProject(d, mr.project); }) : undefined;
  if (mr && !mrMember) return { ok: false, message: `This merge request's project ${mr.project.path} is not a member of train ${train.name} (members: ${train.members.join(', ')}).` };

  const starts: Record<string, TrainMemberStart> = {};
  for (const [member, tag] of Object.entries(command.tags)) {
    const definition = definitionOf(member);
    if (!definition || !train.members.includes(member)) {
      return { ok: false, message: `${member} is not a member of train ${train.name} (members: ${train.members.join(', ')}).` };
    }
    starts[member] = { image: `${definition.trigger.image}:${tag}`, ...(member === mrMember && mr ? { mr: mr.ref } : {}) };
  }
  // Starting moves every member bringing an image: the actor must pass each one's approvals policy.
  for (const member of Object.keys(starts)) {
    const definition = definitionOf(member)!;
    const verdict = await authorizeActor(deps.gitlab, {
      verb: 'approve',
      policy: definition.approvals,
      project: definition.trigger.project,
      actor: { username: actor.username, userId: actor.userId },
      ...(member === mrMember && mr?.ref.authorUsername ? { mrAuthor: mr.ref.authorUsername } : {}),
    });
    if (!verdict.allowed) return { ok: false, message: `Refused for ${member}: ${verdict.message}` };
  }
  const started = await deps.runner.start(train.name, starts, actor);
  if (!started.ok) return { ok: false, message: `Train ${train.name} not started: ${started.message}.` };
  const bringing = started.run.members.map((member) => `${member.name} ${member.image ?? '(rides on stable)'}`).join(', ');
  return { ok: true, message: `Train ${train.name} started as ${started.run.id}: ${bringing}.`, runId: started.run.id };
}

export interface TrainActDeps {
  runner: Pick<TrainRunner, 'findLive' | 'find' | 'command'>;
  gitlab: Pick<GitLabApi, 'memberAccessLevel' | 'groupMemberAccessLevel'>;
  logger?: Pick<Logger, 'info'>;
}

export interface TrainActRequest {
  command: TrainActCommand;
  actor: Actor & { userId: number };
}

export type TrainActAnswer = { ok: boolean; message: string; runId?: string; delivery?: 'not-applied' | 'pending' };

/**
 * `/canary train approve|abort|promote|status <train>` (MR, chat or API): the train's live run as
 * one unit. Acting needs the actor to pass the approvals policy of every member bringing a new
 * image, as each member's own command would; a refusal is written into the run's audit.
 */
export async function actOnTrainCommand(deps: TrainActDeps, request: TrainActRequest): Promise<TrainActAnswer> {
  const { command, actor } = request;
  const run = (await deps.runner.findLive(command.train)) ?? (await deps.runner.find(command.train));
  if (!run) return { ok: false, message: `Train ${command.train} has no live run.` };
  if (command.verb === 'status') return { ok: true, message: trainStatus(run), runId: run.id };
  const verb = command.verb;
  let refusal: string | undefined;
  for (const member of run.members.filter((candidate) => candidate.image !== null)) {
    const verdict = await authorizeActor(deps.gitlab, {
      verb,
      policy: member.definition.approvals,
      project: member.definition.trigger.project,
      actor: { username: actor.username, userId: actor.userId },
      ...(member.mr?.authorUsername ? { mrAuthor: member.mr.authorUsername } : {}),
    });
    if (!verdict.allowed) {
      refusal = `Refused for ${member.name}: ${verdict.message}`;
      break;
    }
  }
  const answer = await deps.runner.command(run.id, {
    type: 'command',
    verb,
    actor,
    ...(command.reason ? { reason: command.reason } : {}),
    ...(refusal !== undefined ? { refusal } : {}),
  });
  deps.logger?.info({ trainRun: run.id, verb, actor: actor.username, channel: actor.channel, ok: answer.ok }, 'train command');
  return { ok: answer.ok, message: capitalize(answer.message), runId: run.id, ...(answer.delivery ? { delivery: answer.delivery } : {}) };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + (text.endsWith('.') ? '' : '.');
}
