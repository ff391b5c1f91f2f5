import { describe, expect, it } from 'vitest';
import type { GitLabMergeRequest } from './gitlab-api.js';
import { pickMergeRequest } from './pick-merge-request.js';

const SHA = 'bcbb5ec396a2c0f828686f14fac9b80b780504f2';

function mr(iid: number, change: Partial<GitLabMergeRequest> = {}): GitLabMergeRequest {
  return {
    projectId: 1,
    iid,
    title: `MR ${iid}`,
    state: 'open',
    url: `https://gitlab.example.com/mr/${iid}`,
    author: { id: iid, username: `u${iid}` },
    sourceBranch: `b${iid}`,
    targetBranch: 'main',
    sha: null,
    mergeCommitSha: null,
    squashCommitSha: null,
    updatedAt: 1000 + iid,
    ...change,
  };
}

describe('pickMergeRequest (DESIGN §9 "Which MR")', () => {
  it.each([
    ['no candidates', [], null],
    ['the merged MR whose merge commit is the sha', [mr(1, { updatedAt: 9999 }), mr(2, { state: 'merged', mergeCommitSha: SHA })], 2],
    ['the merged MR whose squash commit is the sha', [mr(1, { updatedAt: 9999 }), mr(3, { state: 'merged', squashCommitSha: SHA })], 3],
    ['not an open MR that happens to carry the sha as merge commit', [mr(4, { mergeCommitSha: SHA, updatedAt: 1 }), mr(5, { updatedAt: 2 })], 5],
    ['else the most recently updated', [mr(6, { updatedAt: 5 }), mr(7, { updatedAt: 50 }), mr(8, { updatedAt: 20 })], 7],
    ['a merged MR of another sha counts only by recency', [mr(9, { state: 'merged', mergeCommitSha: 'ffff', updatedAt: 1 }), mr(10, { updatedAt: 2 })], 10],
  ] as const)('%s', (_name, candidates, expected) => {
    expect(pickMergeRequest(SHA, candidates)?.iid ?? null).toBe(expected);
  });
});
