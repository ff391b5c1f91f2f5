import type { EnvironmentTier } from '../core/definition.js';
import type { FreezePeriod } from '../core/windows.js';
// The GitLab operations canarybot needs, in neutral shapes. Everything outside src/gitlab/ talks
// to GitLab only through this interface; `createGitLabClient` (client.ts) implements it over
// @gitbeaker/rest and translates GitLab's vocabulary (snake_case, `opened`, iid) here, once.
//
// Errors: every method throws CanarybotError GITLAB_UNAVAILABLE (transient: 5xx, 429, network,
// timeout) or GITLAB_REFUSED (terminal: any other 4xx). Methods documented as returning null
// translate GitLab's 404 into null instead.

export interface GitLabUser {
  id: number;
  username: string;
  name: string;
  /** `active`, `blocked`, … as GitLab reports it. */
  state: string;
}

export interface GitLabProject {
  id: number;
  /** `group/name` */
  path: string;
  webUrl: string;
  defaultBranch: string | null;
}

export type MergeRequestState = 'open' | 'closed' | 'merged' | 'locked';

export interface GitLabMergeRequest {
  projectId: number;
  iid: number;
  title: string;
  state: MergeRequestState;
  url: string;
  author: { id: number; username: string };
  sourceBranch: string;
  targetBranch: string;
  /** Head sha of the MR. */
  sha: string | null;
  mergeCommitSha: string | null;
  squashCommitSha: string | null;
  /** Epoch ms. */
  updatedAt: number;
}

export interface GitLabNote {
  id: number;
  body: string;
  author: { id: number; username: string };
  system: boolean;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export type CommitStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

export interface CommitStatusInput {
  state: CommitStatusState;
  /** Status context, e.g. `canarybot/reviews`. */
  name: string;
  targetUrl?: string;
  description?: string;
  /** Branch or tag the sha belongs to (optional for GitLab). */
  ref?: string;
}

export interface GitLabCommitStatus {
  id: number;
  sha: string;
  name: string;
  state: CommitStatusState;
  targetUrl: string | null;
  description: string | null;
}

export type DeploymentStatus = 'created' | 'running' | 'success' | 'failed' | 'canceled';

export interface DeploymentInput {
  environment: string;
  sha: string;
  ref: string;
  /** Whether `ref` is a tag (default false). */
  tag?: boolean;
  status: Exclude<DeploymentStatus, 'created'>;
}

export interface GitLabDeployment {
  id: number;
  iid: number;
  status: DeploymentStatus;
  environment: string;
  sha: string;
  ref: string;
}

export interface GitLabEnvironment {
  id: number;
  name: string;
  /** null on GitLab versions before 13.10, which have no tiers. */
  tier: string | null;
}

/** GitLab access levels (members API). */
export const ACCESS_LEVELS = {
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

export interface GitLabApi {
  /** The user the token belongs to (the bot itself). */
  currentUser(): Promise<GitLabUser>;
  /** By numeric id or `group/name` path; null when GitLab answers 404. */
  getProject(idOrPath: number | string): Promise<GitLabProject | null>;
  /** The project's deploy freeze periods (GET /projects/:id/freeze_periods). */
  freezePeriods?(projectId: number | string): Promise<FreezePeriod[]>;
  /** GitLab's "merge requests associated with a commit", newest first as GitLab returns them. */
  mergeRequestsForCommit(projectId: number | string, sha: string): Promise<GitLabMergeRequest[]>;
  /** null when GitLab answers 404. */
  getMergeRequest(projectId: number | string, iid: number): Promise<GitLabMergeRequest | null>;
  /** All notes of an MR (every page), oldest first. */
  listNotes(projectId: number | string, iid: number): Promise<GitLabNote[]>;
  createNote(projectId: number | string, iid: number, body: string): Promise<GitLabNote>;
  editNote(projectId: number | string, iid: number, noteId: number, body: string): Promise<GitLabNote>;
  /** Reply in an existing discussion (thread) of an MR. */
  createDiscussionNote(projectId: number | string, iid: number, discussionId: string, body: string): Promise<GitLabNote>;
  /** Award an emoji (e.g. `eyes`) on an MR note. */
  awardEmoji(projectId: number | string, iid: number, noteId: number, name: string): Promise<void>;
  setCommitStatus(projectId: number | string, sha: string, status: CommitStatusInput): Promise<GitLabCommitStatus>;
  commitStatuses(projectId: number | string, sha: string): Promise<GitLabCommitStatus[]>;
  createDeployment(projectId: number | string, input: DeploymentInput): Promise<GitLabDeployment>;
  updateDeployment(
    projectId: number | string,
    deploymentId: number,
    status: Exclude<DeploymentStatus, 'created'>,
  ): Promise<GitLabDeployment>;
  /** The project's environment of exactly this name (GET /projects/:id/environments?name=), or null. */
  findEnvironment(projectId: number | string, name: string): Promise<GitLabEnvironment | null>;
  createEnvironment(projectId: number | string, input: { name: string; tier: EnvironmentTier }): Promise<GitLabEnvironment>;
  setEnvironmentTier(projectId: number | string, environmentId: number, tier: EnvironmentTier): Promise<GitLabEnvironment>;
  /** null when no such user. */
  userByUsername(username: string): Promise<GitLabUser | null>;
  /** Users whose (public) email matches; used to map chat identities to GitLab users. */
  usersByEmail(email: string): Promise<GitLabUser[]>;
  /** Access level on the project including inherited (group) membership; null for non-members. */
  memberAccessLevel(projectId: number | string, userId: number): Promise<number | null>;
  /**
   * Access level in a group (by id or full path such as `platform/release-managers`), including
   * membership inherited from its ancestor groups; null for non-members (GitLab's 404, which is
   * also what it answers for a group the token cannot see).
   */
  groupMemberAccessLevel(groupIdOrPath: number | string, userId: number): Promise<number | null>;
}
