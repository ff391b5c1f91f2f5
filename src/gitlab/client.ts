// GitLabApi over @gitbeaker/rest. Vendor shapes stop here: callers get the neutral types of
// gitlab-api.ts and CanarybotErrors whose code says "their outage" (GITLAB_UNAVAILABLE) or
// "refused" (GITLAB_REFUSED). The token never appears in an error, a cause or a log line.

import { Gitlab, GitbeakerRequestError } from '@gitbeaker/rest';
import { CanarybotError } from '../core/errors.js';
import type {
  CommitStatusState,
  DeploymentStatus,
  GitLabApi,
  GitLabCommitStatus,
  GitLabDeployment,
  GitLabEnvironment,
  GitLabMergeRequest,
  GitLabNote,
  GitLabProject,
  GitLabUser,
  MergeRequestState,
} from './gitlab-api.js';

export interface GitLabClientOptions {
  /** Base URL of the GitLab instance, e.g. https://gitlab.example.com (no /api/v4). */
  url: string;
  token: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

type Raw = Record<string, unknown>;

export function createGitLabClient(options: GitLabClientOptions): GitLabApi {
  if (!options.url) throw new CanarybotError('INTERNAL', 'GITLAB_URL is required for the GitLab client');
  if (!options.token) throw new CanarybotError('INTERNAL', 'GITLAB_TOKEN is required for the GitLab client');
  const api = new Gitlab({
    host: options.url.replace(/\/+$/, ''),
    token: options.token,
    queryTimeout: options.timeoutMs ?? 10_000,
  });
  // gitbeaker's request functions are untyped enough at this boundary; each call's result is
  // translated by a mapper that reads only the fields it needs.
  const call = async <T>(what: string, run: () => Promise<unknown>, map: (raw: unknown) => T): Promise<T> => {
    try {
      return map(await run());
    } catch (error) {
      throw translateError(what, error);
    }
  };
  const nullOn404 = async <T>(what: string, run: () => Promise<unknown>, map: (raw: unknown) => T): Promise<T | null> => {
    try {
      return map(await run());
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw translateError(what, error);
    }
  };

  return {
    currentUser: () => call('GET /user', () => api.Users.showCurrentUser(), toUser),
    getProject: (idOrPath) => nullOn404('GET /projects/:id', () => api.Projects.show(idOrPath), toProject),
    freezePeriods: (projectId) =>
      call('GET /projects/:id/freeze_periods', () => api.FreezePeriods.all(projectId), (raw) =>
        asArray(raw).map((period) => {
          const p = period as { freeze_start?: unknown; freeze_end?: unknown; cron_timezone?: unknown };
          return { freezeStart: String(p.freeze_start ?? ''), freezeEnd: String(p.freeze_end ?? ''), timezone: typeof p.cron_timezone === 'string' && p.cron_timezone !== '' ? p.cron_timezone : 'UTC' };
        }),
      ),
    mergeRequestsForCommit: (projectId, sha) =>
      call('GET /projects/:id/repository/commits/:sha/merge_requests', () => api.Commits.allMergeRequests(projectId, sha), (raw) =>
        asArray(raw).map(toMergeRequest),
      ),
    getMergeRequest: (projectId, iid) =>
      nullOn404('GET /projects/:id/merge_requests/:iid', () => api.MergeRequests.show(projectId, iid), toMergeRequest),
    listNotes: (projectId, iid) =>
      call(
        'GET /projects/:id/merge_requests/:iid/notes',
        () => api.MergeRequestNotes.all(projectId, iid, { sort: 'asc', orderBy: 'created_at', perPage: 100 }),
        (raw) => asArray(raw).map(toNote),
      ),
    createNote: (projectId, iid, body) =>
      call('POST /projects/:id/merge_requests/:iid/notes', () => api.MergeRequestNotes.create(projectId, iid, body), toNote),
    editNote: (projectId, iid, noteId, body) =>
      call(
        'PUT /projects/:id/merge_requests/:iid/notes/:note_id',
        () => api.MergeRequestNotes.edit(projectId, iid, noteId, { body }),
        toNote,
      ),
    createDiscussionNote: (projectId, iid, discussionId, body) =>
      call(
        'POST /projects/:id/merge_requests/:iid/discussions/:discussion_id/notes',
        () => api.MergeRequestDiscussions.addNote(projectId, iid, discussionId, body),
        toNote,
      ),
    awardEmoji: (projectId, iid, noteId, name) =>
      call(
        'POST /projects/:id/merge_requests/:iid/notes/:note_id/award_emoji',
        () => api.MergeRequestNoteAwardEmojis.award(projectId, iid, noteId, name),
        () => undefined,
      ),
    setCommitStatus: (projectId, sha, status) =>
      call(
        'POST /projects/:id/statuses/:sha',
        () =>
          api.Commits.editStatus(projectId, sha, status.state, {
            name: status.name,
            ...(status.targetUrl !== undefined ? { targetUrl: status.targetUrl } : {}),
            ...(status.description !== undefined ? { description: status.description } : {}),
            ...(status.ref !== undefined ? { ref: status.ref } : {}),
          }),
        toCommitStatus,
      ),
    commitStatuses: (projectId, sha) =>
      call('GET /projects/:id/repository/commits/:sha/statuses', () => api.Commits.allStatuses(projectId, sha, { all: true }), (raw) =>
        asArray(raw).map(toCommitStatus),
      ),
    createDeployment: (projectId, input) =>
      call(
        'POST /projects/:id/deployments',
        () => api.Deployments.create(projectId, input.environment, input.sha, input.ref, input.tag ?? false, { status: input.status }),
        toDeployment,
      ),
    updateDeployment: (projectId, deploymentId, status) =>
      call('PUT /projects/:id/deployments/:deployment_id', () => api.Deployments.edit(projectId, deploymentId, status), toDeployment),
    findEnvironment: (projectId, name) =>
      call('GET /projects/:id/environments?name=', () => api.Environments.all(projectId, { name }), (raw) =>
        // `name` is an exact match on GitLab; compare again so a server ignoring it cannot mislead.
        asArray(raw).map(toEnvironment).find((e) => e.name === name) ?? null,
      ),
    createEnvironment: (projectId, input) =>
      call('POST /projects/:id/environments', () => api.Environments.create(projectId, input.name, { tier: input.tier }), toEnvironment),
    setEnvironmentTier: (projectId, environmentId, tier) =>
      call('PUT /projects/:id/environments/:environment_id', () => api.Environments.edit(projectId, environmentId, { tier }), toEnvironment),
    userByUsername: (username) =>
      call('GET /users?username=', () => api.Users.all({ username }), (raw) => {
        const users = asArray(raw).map(toUser);
        return users.find((u) => u.username.toLowerCase() === username.toLowerCase()) ?? null;
      }),
    usersByEmail: (email) =>
      call('GET /users?search=', () => api.Users.all({ search: email }), (raw) =>
        // Search also matches names; only an exact (public) email match identifies a person.
        asArray(raw)
          .filter((u) => [u.email, u.public_email].some((e) => typeof e === 'string' && e.toLowerCase() === email.toLowerCase()))
          .map(toUser),
      ),
    memberAccessLevel: (projectId, userId) =>
      nullOn404(
        'GET /projects/:id/members/all/:user_id',
        () => api.ProjectMembers.show(projectId, userId, { includeInherited: true }),
        (raw) => num(obj(raw).access_level),
      ),
    groupMemberAccessLevel: (groupIdOrPath, userId) =>
      nullOn404(
        'GET /groups/:id/members/all/:user_id',
        () => api.GroupMembers.show(groupIdOrPath, userId, { includeInherited: true }),
        (raw) => num(obj(raw).access_level),
      ),
  };
}

function statusOf(error: unknown): number | null {
  if (!(error instanceof GitbeakerRequestError)) return null;
  const cause = error.cause as { response?: { status?: number } } | undefined;
  return typeof cause?.response?.status === 'number' ? cause.response.status : null;
}

/** Only status and GitLab's message survive: the request (with its PRIVATE-TOKEN header) is dropped. */
function translateError(what: string, error: unknown): CanarybotError {
  if (error instanceof CanarybotError) return error;
  const status = statusOf(error);
  if (status !== null) {
    const description = error instanceof Error ? error.message.slice(0, 300) : '';
    const message = `GitLab ${what} answered ${status}${description ? `: ${description}` : ''}`;
    const transient = status >= 500 || status === 429 || status === 408;
    return new CanarybotError(transient ? 'GITLAB_UNAVAILABLE' : 'GITLAB_REFUSED', message);
  }
  // GitbeakerRetryError (429/502 after gitbeaker's own retries), GitbeakerTimeoutError and
  // network failures (fetch's TypeError) are all an outage on their side.
  const detail = error instanceof Error ? error.name : 'error';
  return new CanarybotError('GITLAB_UNAVAILABLE', `GitLab ${what} failed (${detail})`);
}

function obj(raw: unknown): Raw {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CanarybotError('GITLAB_UNAVAILABLE', 'GitLab answered with an unexpected body');
  }
  return raw as Raw;
}

function asArray(raw: unknown): Raw[] {
  if (!Array.isArray(raw)) throw new CanarybotError('GITLAB_UNAVAILABLE', 'GitLab answered with an unexpected body');
  return raw.map(obj);
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}

function strOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function time(value: unknown): number {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(t) ? t : 0;
}

function toUser(raw: unknown): GitLabUser {
  const u = obj(raw);
  return { id: num(u.id), username: str(u.username), name: str(u.name), state: str(u.state) || 'active' };
}

function toProject(raw: unknown): GitLabProject {
  const p = obj(raw);
  return { id: num(p.id), path: str(p.path_with_namespace), webUrl: str(p.web_url), defaultBranch: strOrNull(p.default_branch) };
}

const MR_STATES: Record<string, MergeRequestState> = { opened: 'open', closed: 'closed', merged: 'merged', locked: 'locked' };

function toMergeRequest(raw: unknown): GitLabMergeRequest {
  const m = obj(raw);
  const author = m.author && typeof m.author === 'object' ? (m.author as Raw) : {};
  return {
    projectId: num(m.project_id),
    iid: num(m.iid),
    title: str(m.title),
    state: MR_STATES[str(m.state)] ?? 'closed',
    url: str(m.web_url),
    author: { id: num(author.id), username: str(author.username) },
    sourceBranch: str(m.source_branch),
    targetBranch: str(m.target_branch),
    sha: strOrNull(m.sha),
    mergeCommitSha: strOrNull(m.merge_commit_sha),
    squashCommitSha: strOrNull(m.squash_commit_sha),
    updatedAt: time(m.updated_at),
  };
}

function toNote(raw: unknown): GitLabNote {
  const n = obj(raw);
  const author = n.author && typeof n.author === 'object' ? (n.author as Raw) : {};
  return {
    id: num(n.id),
    body: str(n.body),
    author: { id: num(author.id), username: str(author.username) },
    system: n.system === true,
    createdAt: time(n.created_at),
    updatedAt: time(n.updated_at),
  };
}

const STATUS_STATES: Record<string, CommitStatusState> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failed: 'failed',
  canceled: 'canceled',
  cancelled: 'canceled',
};

function toCommitStatus(raw: unknown): GitLabCommitStatus {
  const s = obj(raw);
  return {
    id: num(s.id),
    sha: str(s.sha),
    name: str(s.name),
    state: STATUS_STATES[str(s.status)] ?? 'pending',
    targetUrl: strOrNull(s.target_url),
    description: strOrNull(s.description),
  };
}

const DEPLOYMENT_STATES: Record<string, DeploymentStatus> = {
  created: 'created',
  running: 'running',
  success: 'success',
  failed: 'failed',
  canceled: 'canceled',
};

function toDeployment(raw: unknown): GitLabDeployment {
  const d = obj(raw);
  const env = d.environment && typeof d.environment === 'object' ? (d.environment as Raw) : {};
  return {
    id: num(d.id),
    iid: num(d.iid),
    status: DEPLOYMENT_STATES[str(d.status)] ?? 'created',
    environment: str(env.name),
    sha: str(d.sha),
    ref: str(d.ref),
  };
}

function toEnvironment(raw: unknown): GitLabEnvironment {
  const e = obj(raw);
  return { id: num(e.id), name: str(e.name), tier: strOrNull(e.tier) };
}

export interface TokenUserOptions {
  /** Base URL of the GitLab instance (no /api/v4). */
  url: string;
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
}

/**
 * Who a caller's GitLab access token belongs to: `GET /user` with that token. Personal, project and
 * OAuth tokens are all sent as `Authorization: Bearer`, which GitLab accepts for each of them.
 * null when GitLab does not accept it (401: unknown, expired or revoked; 403: a blocked user or a
 * token without a scope that may read the user) or the user is not active. An outage throws
 * CanarybotError GITLAB_UNAVAILABLE: the caller answers "try again", never lets anyone in.
 */
export async function gitlabUserOfToken(options: TokenUserOptions, token: string): Promise<GitLabUser | null> {
  const api = new Gitlab({ host: options.url.replace(/\/+$/, ''), oauthToken: token, queryTimeout: options.timeoutMs ?? 5_000 });
  let user: GitLabUser;
  try {
    user = toUser(await api.Users.showCurrentUser());
  } catch (error) {
    const status = statusOf(error);
    if (status === 401 || status === 403) return null;
    const translated = translateError('GET /user', error);
    throw translated.code === 'GITLAB_REFUSED' ? new CanarybotError('GITLAB_UNAVAILABLE', translated.message) : translated;
  }
  return user.state === 'active' && user.id > 0 && user.username !== '' ? user : null;
}
