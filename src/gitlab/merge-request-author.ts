import type { Release } from '../core/release.js';
import type { GitLabApi } from './gitlab-api.js';

/**
 * The author of a release's MR, which decides `approvals.allowAuthor`: from the release record, else
 * asked of GitLab as the MR-comment intake does. undefined when the release has no MR.
 */
export async function mergeRequestAuthorOf(gitlab: Pick<GitLabApi, 'getMergeRequest'>, release: Release): Promise<string | undefined> {
  if (!release.mr) return undefined;
  if (release.mr.authorUsername) return release.mr.authorUsername;
  const mr = await gitlab.getMergeRequest(release.mr.projectId, release.mr.iid);
  return mr?.author.username || undefined;
}
