// Who may move a release: the definition's `approvals` policy applied to a verified GitLab identity.
// Pure; the GitLab and chat intakes look up the access level and groups, then ask here.

import type { ActingVerb } from './command.js';
import type { AccessLevelName, ApprovalPolicy } from './definition.js';

/** GitLab's numeric access levels. */
export const ACCESS_LEVELS: Record<AccessLevelName, number> = { developer: 30, maintainer: 40, owner: 50 };

const LEVEL_NAMES: [number, string][] = [
  [50, 'owner'],
  [40, 'maintainer'],
  [30, 'developer'],
  [20, 'reporter'],
  [15, 'planner'],
  [10, 'guest'],
  [5, 'minimal access'],
];

export function accessLevelName(level: number): string {
  return LEVEL_NAMES.find(([value]) => level >= value)?.[1] ?? `access level ${level}`;
}

export interface AuthorizeInput {
  verb: ActingVerb;
  policy: ApprovalPolicy;
  actor: {
    username: string;
    /** GitLab numeric access level in the project (30 developer, 40 maintainer, 50 owner); null = not a member. */
    accessLevel: number | null;
    /** Full paths of the GitLab groups the actor belongs to. */
    groups?: string[];
  };
  mrAuthor?: string;
}

export type AuthorizeResult = { allowed: true } | { allowed: false; rule: string; message: string };

function normalizeUser(name: string): string {
  return name.trim().replace(/^@/, '').toLowerCase();
}

function normalizeGroup(path: string): string {
  return path.trim().replace(/^@/, '').replace(/\/+$/, '').toLowerCase();
}

function isNamedUser(policy: ApprovalPolicy, username: string): boolean {
  const user = normalizeUser(username);
  return policy.users.some((named) => normalizeUser(named) === user);
}

/**
 * `groups` are the groups the actor belongs to, inherited membership included (GitLab's
 * members/all). Inheritance runs from a parent group down to its subgroups, never upwards, so only
 * an exact path match counts: a member of `platform/sre/oncall` is not thereby in `platform/sre`.
 */
function inNamedGroup(policy: ApprovalPolicy, groups: string[] | undefined): boolean {
  if (!groups || policy.groups.length === 0) return false;
  const mine = new Set(groups.map(normalizeGroup));
  return policy.groups.some((group) => mine.has(normalizeGroup(group)));
}

function refused(rule: string, message: string): AuthorizeResult {
  return { allowed: false, rule, message };
}

export function authorize(input: AuthorizeInput): AuthorizeResult {
  const { verb, policy, actor } = input;
  const who = `@${normalizeUser(actor.username)}`;
  if (actor.accessLevel === null) {
    return refused('membership', `${who} is not a member of the project, so cannot ${verb} releases.`);
  }
  const level = actor.accessLevel;
  const named = isNamedUser(policy, actor.username) || inNamedGroup(policy, actor.groups);

  if (verb === 'abort') {
    // Stopping is always safer than going on: any developer may abort, whatever the approval policy.
    if (named || level >= ACCESS_LEVELS.developer) return { allowed: true };
    return refused(
      'abort.minAccessLevel',
      `abort: developer required, ${who} has ${accessLevelName(level)}.`,
    );
  }

  const isAuthor = input.mrAuthor !== undefined && normalizeUser(input.mrAuthor) === normalizeUser(actor.username);
  if ((verb === 'approve' || verb === 'promote') && isAuthor && !policy.allowAuthor) {
    return refused(
      'approvals.allowAuthor',
      `approvals.allowAuthor: ${who} wrote this merge request and cannot ${verb} its release.`,
    );
  }

  const required = ACCESS_LEVELS[policy.minAccessLevel];
  if (named || level >= required) return { allowed: true };
  const alternatives = [
    policy.users.length > 0 ? `approvals.users: ${policy.users.map((u) => `@${normalizeUser(u)}`).join(', ')}` : null,
    policy.groups.length > 0 ? `approvals.groups: ${policy.groups.join(', ')}` : null,
  ].filter((text): text is string => text !== null);
  return refused(
    'approvals.minAccessLevel',
    `approvals.minAccessLevel: ${policy.minAccessLevel} required, ${who} has ${accessLevelName(level)}` +
      (alternatives.length > 0 ? ` and is not in ${alternatives.join(' or ')}.` : '.'),
  );
}
