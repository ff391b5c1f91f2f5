// What a caller may do to a release, for the dashboard's buttons and `GET /api/me`: the approvals
// policy as the MR-comment intake applies it (`allowed`), and whether the release is in a state
// where the command would do anything (`applicable`, asked of the core itself so it never drifts).

import type { ActingVerb } from '../core/command.js';
import { decide } from '../core/decide.js';
import type { Release } from '../core/release.js';
import { authorizeActor } from '../gitlab/authorize-actor.js';
import type { GitLabApi } from '../gitlab/gitlab-api.js';
import { mergeRequestAuthorOf } from '../gitlab/merge-request-author.js';
import type { Caller } from './caller-identity.js';

export const ACTING_VERBS: readonly ActingVerb[] = ['approve', 'promote', 'abort', 'pause', 'resume', 'retry', 'override-freeze'];

export interface CommandPermission {
  /** The approvals policy lets this caller give the command. */
  allowed: boolean;
  /** The release's state accepts the command now (approve only while awaiting approval, …). */
  applicable: boolean;
  /** Why not, when either is false: the refusal sentence the command would get. */
  reason?: string;
}

export type PolicyGitLab = Pick<GitLabApi, 'memberAccessLevel' | 'groupMemberAccessLevel' | 'getMergeRequest'>;

/** The sentence the core would refuse `verb` with now, or null when it would accept it. Pure. */
export function refusalNow(release: Release, verb: ActingVerb, now: number): string | null {
  // override-freeze always comes with a reason (the route refuses it without one): ask with one.
  const reason = verb === 'override-freeze' ? { reason: 'check' } : {};
  const decision = decide(release, { type: 'command', verb, actor: { username: 'check', channel: 'api' }, releaseId: release.id, stepIndex: release.stepIndex, ...reason }, now);
  return decision.reply && !decision.reply.ok ? decision.reply.message : null;
}

/** Every acting verb for one release. GitLab errors propagate (the caller answers 503). */
export async function commandPermissions(
  gitlab: PolicyGitLab,
  caller: Caller,
  release: Release,
  now: number,
): Promise<Record<ActingVerb, CommandPermission>> {
  const mrAuthor = await mergeRequestAuthorOf(gitlab, release);
  const entries = await Promise.all(
    ACTING_VERBS.map(async (verb): Promise<[ActingVerb, CommandPermission]> => {
      const decision = await authorizeActor(gitlab, {
        verb,
        policy: release.definition.approvals,
        project: release.definition.trigger.project,
        actor: { username: caller.username, userId: caller.id },
        ...(mrAuthor !== undefined ? { mrAuthor } : {}),
      });
      const refusal = refusalNow(release, verb, now);
      const permission: CommandPermission = { allowed: decision.allowed, applicable: refusal === null };
      if (!decision.allowed) permission.reason = `Refused by ${decision.message}`;
      else if (refusal !== null) permission.reason = refusal;
      return [verb, permission];
    }),
  );
  return Object.fromEntries(entries) as Record<ActingVerb, CommandPermission>;
}

/**
 * The GitLab look-ups of one request remembered for that request: one access-level call per
 * project (and per listed group) however many releases and verbs are asked about.
 */
export function memoizedPolicyGitLab(gitlab: PolicyGitLab): PolicyGitLab {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    let found = memo.get(key) as Promise<T> | undefined;
    if (!found) {
      found = run();
      memo.set(key, found);
    }
    return found;
  };
  return {
    memberAccessLevel: (project, userId) => once(`m:${project}:${userId}`, () => gitlab.memberAccessLevel(project, userId)),
    groupMemberAccessLevel: (group, userId) => once(`g:${group}:${userId}`, () => gitlab.groupMemberAccessLevel(group, userId)),
    getMergeRequest: (project, iid) => once(`mr:${project}:${iid}`, () => gitlab.getMergeRequest(project, iid)),
  };
}
