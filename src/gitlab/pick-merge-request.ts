import type { GitLabMergeRequest } from './gitlab-api.js';

/**
 * DESIGN §9 "Which MR", for a pipeline without `merge_request`: among the MRs GitLab associates
 * with the commit, the merged one whose merge or squash commit is this sha, else the most recently
 * updated one; none → null.
 */
export function pickMergeRequest(sha: string, candidates: readonly GitLabMergeRequest[]): GitLabMergeRequest | null {
  const merged = candidates.find(
    (mr) => mr.state === 'merged' && (mr.mergeCommitSha === sha || mr.squashCommitSha === sha),
  );
  if (merged) return merged;
  let newest: GitLabMergeRequest | null = null;
  for (const mr of candidates) if (!newest || mr.updatedAt > newest.updatedAt) newest = mr;
  return newest;
}
