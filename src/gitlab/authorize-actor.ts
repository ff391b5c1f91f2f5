// The approvals policy applied to a GitLab user, with the GitLab look-ups it needs: the project
// access level always, the `approvals.groups` memberships only when they can change the answer.
// Shared by the MR-comment and the chat intakes, so both apply exactly the same rules.

import { authorize, type AuthorizeInput, type AuthorizeResult } from '../core/approval-policy.js';
import type { GitLabApi } from './gitlab-api.js';

/** GitLab's "minimal access" (5) is not membership: it grants nothing in the group's projects. */
const MIN_GROUP_MEMBER_LEVEL = 10;

/** Refusals that a named group could turn into an allowance; the others (not a project member, MR author) stand. */
const GROUP_CAN_ALLOW: ReadonlySet<string> = new Set(['approvals.minAccessLevel', 'abort.minAccessLevel']);

export interface AuthorizeActorInput extends Omit<AuthorizeInput, 'actor'> {
  actor: { username: string; userId: number };
  /** The definition's project (`trigger.project`, path or id). */
  project: number | string;
}

/**
 * Looks up the actor's project access level, asks the policy, and only when the policy refused on
 * access level and names groups, asks GitLab (in parallel, one call per listed group) which of
 * them the actor belongs to, then asks again. GitLab errors propagate (CanarybotError
 * GITLAB_UNAVAILABLE / GITLAB_REFUSED): the caller retries or refuses, never allows.
 */
export async function authorizeActor(
  gitlab: Pick<GitLabApi, 'memberAccessLevel' | 'groupMemberAccessLevel'>,
  input: AuthorizeActorInput,
): Promise<AuthorizeResult> {
  const { project, actor, ...rest } = input;
  const accessLevel = await gitlab.memberAccessLevel(project, actor.userId);
  const first = authorize({ ...rest, actor: { username: actor.username, accessLevel } });
  if (first.allowed || input.policy.groups.length === 0 || !GROUP_CAN_ALLOW.has(first.rule)) return first;

  const groups = await memberGroups(gitlab, input.policy.groups, actor.userId);
  if (groups.length === 0) return first;
  return authorize({ ...rest, actor: { username: actor.username, accessLevel, groups } });
}

/** The listed groups the user belongs to (directly or through an ancestor group). */
async function memberGroups(
  gitlab: Pick<GitLabApi, 'groupMemberAccessLevel'>,
  groups: readonly string[],
  userId: number,
): Promise<string[]> {
  const unique = [...new Set(groups.map((g) => g.trim().replace(/^@/, '').replace(/\/+$/, '')).filter((g) => g !== ''))];
  const levels = await Promise.all(unique.map((group) => gitlab.groupMemberAccessLevel(group, userId)));
  return unique.filter((_group, i) => (levels[i] ?? 0) >= MIN_GROUP_MEMBER_LEVEL);
}
