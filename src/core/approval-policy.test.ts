import { describe, expect, it } from 'vitest';
import type { ActingVerb } from './command.js';
import type { ApprovalPolicy } from './definition.js';
import { accessLevelName, authorize } from './approval-policy.js';

const policy: ApprovalPolicy = { minAccessLevel: 'maintainer', users: ['Release-Bob'], groups: ['platform/sre'], allowAuthor: false };

type Row = [string, ActingVerb, { username: string; accessLevel: number | null; groups?: string[] }, string | undefined, Partial<ApprovalPolicy>, string | null];

// [name, verb, actor, mrAuthor, policy overrides, refusing rule or null when allowed]
const rows: Row[] = [
  ['maintainer approves', 'approve', { username: 'mia', accessLevel: 40 }, 'dev', {}, null],
  ['owner promotes', 'promote', { username: 'olga', accessLevel: 50 }, 'dev', {}, null],
  ['developer cannot approve', 'approve', { username: 'dev2', accessLevel: 30 }, 'dev', {}, 'approvals.minAccessLevel'],
  ['developer cannot resume', 'resume', { username: 'dev2', accessLevel: 30 }, undefined, {}, 'approvals.minAccessLevel'],
  ['developer cannot pause', 'pause', { username: 'dev2', accessLevel: 30 }, undefined, {}, 'approvals.minAccessLevel'],
  ['developer cannot retry', 'retry', { username: 'dev2', accessLevel: 30 }, undefined, {}, 'approvals.minAccessLevel'],
  ['developer may approve when the minimum is developer', 'approve', { username: 'dev2', accessLevel: 30 }, 'dev', { minAccessLevel: 'developer' }, null],
  ['maintainer cannot approve when the minimum is owner', 'approve', { username: 'mia', accessLevel: 40 }, 'dev', { minAccessLevel: 'owner' }, 'approvals.minAccessLevel'],
  ['named user (any case, with @) approves as a developer', 'approve', { username: 'release-bob', accessLevel: 30 }, 'dev', {}, null],
  ['named user with @ in the policy', 'approve', { username: 'bob', accessLevel: 30 }, 'dev', { users: ['@bob'] }, null],
  ['group member approves', 'approve', { username: 'gina', accessLevel: 30, groups: ['platform/sre'] }, 'dev', {}, null],
  ['a subgroup member is not in the parent group', 'approve', { username: 'gina', accessLevel: 30, groups: ['platform/sre/oncall'] }, 'dev', {}, 'approvals.minAccessLevel'],
  ['sibling group does not count', 'approve', { username: 'gina', accessLevel: 30, groups: ['platform/sre-old'] }, 'dev', {}, 'approvals.minAccessLevel'],
  ['non-member is refused even when named', 'approve', { username: 'release-bob', accessLevel: null }, 'dev', {}, 'membership'],
  ['non-member cannot abort', 'abort', { username: 'eve', accessLevel: null }, undefined, {}, 'membership'],
  ['author cannot approve', 'approve', { username: 'mia', accessLevel: 40 }, 'Mia', {}, 'approvals.allowAuthor'],
  ['author cannot promote', 'promote', { username: 'mia', accessLevel: 40 }, 'mia', {}, 'approvals.allowAuthor'],
  ['named author still cannot approve', 'approve', { username: 'release-bob', accessLevel: 40 }, 'release-bob', {}, 'approvals.allowAuthor'],
  ['author may approve when allowed', 'approve', { username: 'mia', accessLevel: 40 }, 'mia', { allowAuthor: true }, null],
  ['author may pause', 'pause', { username: 'mia', accessLevel: 40 }, 'mia', {}, null],
  ['author may resume', 'resume', { username: 'mia', accessLevel: 40 }, 'mia', {}, null],
  ['author may abort', 'abort', { username: 'dev', accessLevel: 30 }, 'dev', {}, null],
  ['developer may abort', 'abort', { username: 'dev2', accessLevel: 30 }, 'dev', { minAccessLevel: 'owner' }, null],
  ['reporter cannot abort', 'abort', { username: 'rita', accessLevel: 20 }, undefined, {}, 'abort.minAccessLevel'],
  ['named reporter may abort', 'abort', { username: 'release-bob', accessLevel: 20 }, undefined, {}, null],
  ['guest cannot approve', 'approve', { username: 'gus', accessLevel: 10 }, undefined, {}, 'approvals.minAccessLevel'],
];

describe('authorize', () => {
  it.each(rows)('%s', (_name, verb, actor, mrAuthor, overrides, rule) => {
    const result = authorize({ verb, policy: { ...policy, ...overrides }, actor, mrAuthor });

    if (rule === null) expect(result).toEqual({ allowed: true });
    else expect(result).toMatchObject({ allowed: false, rule });
  });

  it('names the rule, the required level and what the actor has', () => {
    const result = authorize({ verb: 'approve', policy: { ...policy, users: [], groups: [] }, actor: { username: 'dev', accessLevel: 30 } });

    expect(result).toEqual({
      allowed: false,
      rule: 'approvals.minAccessLevel',
      message: 'approvals.minAccessLevel: maintainer required, @dev has developer.',
    });
  });

  it('mentions the named users and groups that would also be allowed', () => {
    const result = authorize({ verb: 'promote', policy, actor: { username: 'dev', accessLevel: 30 } });

    expect(result.allowed).toBe(false);
    if (result.allowed) return;
    expect(result.message).toBe(
      'approvals.minAccessLevel: maintainer required, @dev has developer and is not in approvals.users: @release-bob or approvals.groups: platform/sre.',
    );
  });

  it('tells a non-member why', () => {
    const result = authorize({ verb: 'abort', policy, actor: { username: 'eve', accessLevel: null } });

    expect(result).toEqual({ allowed: false, rule: 'membership', message: '@eve is not a member of the project, so cannot abort releases.' });
  });

  it.each([
    [50, 'owner'],
    [40, 'maintainer'],
    [30, 'developer'],
    [20, 'reporter'],
    [10, 'guest'],
    [0, 'access level 0'],
  ])('names access level %i as %s', (level, name) => {
    expect(accessLevelName(level)).toBe(name);
  });
});
