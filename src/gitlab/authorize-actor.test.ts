import { describe, expect, it } from 'vitest';
import type { ActingVerb } from '../core/command.js';
import type { ApprovalPolicy } from '../core/definition.js';
import { CanarybotError } from '../core/errors.js';
import { authorizeActor } from './authorize-actor.js';

/** GitLab as two tables: project access levels and group access levels by user id; records every group asked and how many at once. */
function gitlabWith(project: Record<number, number>, groups: Record<string, Record<number, number>>) {
  const asked: string[] = [];
  const concurrency = { now: 0, max: 0 };
  return {
    asked,
    concurrency,
    api: {
      memberAccessLevel: async (_project: number | string, userId: number) => project[userId] ?? null,
      groupMemberAccessLevel: async (group: number | string, userId: number) => {
        asked.push(String(group));
        concurrency.now += 1;
        concurrency.max = Math.max(concurrency.max, concurrency.now);
        await new Promise((resolve) => setImmediate(resolve));
        concurrency.now -= 1;
        return groups[String(group)]?.[userId] ?? null;
      },
    },
  };
}

const policy = (groups: string[], overrides: Partial<ApprovalPolicy> = {}): ApprovalPolicy => ({
  minAccessLevel: 'maintainer',
  users: [],
  groups,
  allowAuthor: false,
  ...overrides,
});

const PROJECT = { 1: 30, 2: 40, 3: 20, 4: 30 };
const GROUPS = { 'platform/release-managers': { 1: 30, 3: 10 }, 'platform/sre': { 4: 5 }, ops: {} };

describe('authorizeActor', () => {
  const table: [string, { verb?: ActingVerb; userId: number; policy: ApprovalPolicy; mrAuthor?: string }, boolean, string[]][] = [
    ['Developer in a listed group', { userId: 1, policy: policy(['platform/release-managers']) }, true, ['platform/release-managers']],
    ['Developer in one of several groups: all asked at once', { userId: 1, policy: policy(['ops', 'platform/release-managers']) }, true, ['ops', 'platform/release-managers']],
    ['Maintainer: no group look-up', { userId: 2, policy: policy(['platform/release-managers']) }, true, []],
    ['policy without groups: no look-up', { userId: 1, policy: policy([]) }, false, []],
    ['non-member of the project: no look-up', { userId: 9, policy: policy(['platform/release-managers']) }, false, []],
    ['MR author with allowAuthor off: no look-up', { userId: 1, policy: policy(['platform/release-managers']), mrAuthor: 'u1' }, false, []],
    ['minimal access in the group is not membership', { userId: 4, policy: policy(['platform/sre']) }, false, ['platform/sre']],
    ['duplicates and trailing slashes asked once', { userId: 1, policy: policy(['platform/release-managers/', 'platform/release-managers']) }, true, ['platform/release-managers']],
    ['Reporter aborting, in a listed group', { verb: 'abort', userId: 3, policy: policy(['platform/release-managers']) }, true, ['platform/release-managers']],
  ];

  it.each(table)('%s', async (_name, input, allowed, asked) => {
    const gitlab = gitlabWith(PROJECT, GROUPS);

    const result = await authorizeActor(gitlab.api, {
      verb: input.verb ?? 'approve',
      policy: input.policy,
      project: 'bookinfo/reviews',
      actor: { username: `u${input.userId}`, userId: input.userId },
      ...(input.mrAuthor ? { mrAuthor: input.mrAuthor } : {}),
    });

    expect(result.allowed).toBe(allowed);
    expect(gitlab.asked.sort()).toEqual(asked);
    expect(gitlab.concurrency.max).toBe(asked.length);
  });

  it('keeps the refusal naming the groups when the user is in none of them', async () => {
    const gitlab = gitlabWith(PROJECT, GROUPS);

    const result = await authorizeActor(gitlab.api, { verb: 'approve', policy: policy(['ops']), project: 10, actor: { username: 'u1', userId: 1 } });

    expect(result).toEqual({
      allowed: false,
      rule: 'approvals.minAccessLevel',
      message: 'approvals.minAccessLevel: maintainer required, @u1 has developer and is not in approvals.groups: ops.',
    });
  });

  it('never allows when GitLab cannot be asked: the error reaches the caller', async () => {
    const gitlab = gitlabWith(PROJECT, GROUPS);
    const down = {
      ...gitlab.api,
      groupMemberAccessLevel: async () => {
        throw new CanarybotError('GITLAB_UNAVAILABLE', 'GitLab GET /groups/:id/members/all/:user_id answered 500');
      },
    };

    await expect(
      authorizeActor(down, { verb: 'approve', policy: policy(['platform/release-managers']), project: 10, actor: { username: 'u1', userId: 1 } }),
    ).rejects.toMatchObject({ code: 'GITLAB_UNAVAILABLE' });
  });
});
