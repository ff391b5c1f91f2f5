// The config repository operations GitOps needs, in neutral shapes (the port). The GitLab adapter
// (gitlab-config-repository.ts) implements it over @gitbeaker/rest.
//
// Errors: CanarybotError GITLAB_UNAVAILABLE (transient outage), GITOPS_RACE (the branch or a file
// moved between read and write: re-read, re-apply, retry), GITLAB_REFUSED (anything else).

export interface RepositoryFile {
  path: string;
  content: string;
  /** The last commit that changed this file on the ref read (GitLab's last_commit_id). */
  lastCommitId: string;
  /** The commit the ref pointed at when read. */
  commitId: string;
}

export interface FileChange {
  path: string;
  content: string;
  /** The file's last_commit_id as read: GitLab refuses the commit when the file changed since. */
  lastCommitId: string;
}

export interface CommitResult {
  sha: string;
  webUrl: string;
}

export interface ConfigMergeRequest {
  iid: number;
  webUrl: string;
  state: 'open' | 'closed' | 'merged' | 'locked';
  mergeCommitSha: string | null;
  /** The MR has a pipeline that is still running (merge when it succeeds). */
  pipeline: 'none' | 'running' | 'success' | 'failed';
  mergeWhenPipelineSucceeds: boolean;
  /** The MR's description (canarybot's carry its Canarybot-Release / Canarybot-Train trailer). */
  description: string;
}

export interface ConfigRepository {
  defaultBranch(project: string | number): Promise<string>;
  /** null when the file does not exist on the ref. */
  readFile(project: string | number, path: string, ref: string): Promise<RepositoryFile | null>;
  /** The branch's head commit, or null when the branch does not exist. */
  branchHead(project: string | number, branch: string): Promise<string | null>;
  /** One commit of `changes` on `branch` (created from `startBranch` when it does not exist yet). */
  commit(project: string | number, request: { branch: string; startBranch?: string; message: string; changes: FileChange[] }): Promise<CommitResult>;
  /** Opens the merge request; when one is open from `sourceBranch` into `targetBranch` already, that one. */
  createMergeRequest(project: string | number, request: { sourceBranch: string; targetBranch: string; title: string; description: string }): Promise<ConfigMergeRequest>;
  mergeRequest(project: string | number, iid: number): Promise<ConfigMergeRequest>;
  /** The newest merge request of `sourceBranch` into `targetBranch` in `state`, or null when there is none. */
  findMergeRequest(project: string | number, request: { sourceBranch: string; targetBranch: string; state: 'open' | 'merged' }): Promise<ConfigMergeRequest | null>;
  /** Merge when the pipeline succeeds (when it is running), else merge now. */
  merge(project: string | number, iid: number, options: { whenPipelineSucceeds: boolean; sha?: string }): Promise<ConfigMergeRequest>;
  /** Closes an open merge request (its auto-merge goes with it); a merged one stays merged. */
  closeMergeRequest(project: string | number, iid: number): Promise<ConfigMergeRequest>;
  /** Link to a commit in GitLab's UI. */
  commitUrl(project: string | number, sha: string): string;
}
