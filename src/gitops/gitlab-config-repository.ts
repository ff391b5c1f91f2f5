// ConfigRepository over @gitbeaker/rest: repository files, the Commits API with a last_commit_id per
// file, branches and merge requests. GitLab's two answers to a lost race — "You are attempting to
// update a file that has changed since you started editing it." (a file's last_commit_id is stale)
// and "… incorrect old value provided" (the branch moved between GitLab's read and its ref update),
// both 400 — become GITOPS_RACE here, at the boundary, so nothing past it reads GitLab's text.

import { Gitlab } from '@gitbeaker/rest';
import { CanarybotError } from '../core/errors.js';
import type { CommitResult, ConfigMergeRequest, ConfigRepository, FileChange, RepositoryFile } from './config-repository.js';

type Raw = Record<string, unknown>;

const LOST_RACE = /has changed since you started editing it|incorrect old value provided|Please refresh and try again/i;

function statusOf(error: unknown): number | null {
  const cause = (error as { cause?: { response?: { status?: unknown } } } | null)?.cause;
  return typeof cause?.response?.status === 'number' ? cause.response.status : null;
}

function descriptionOf(error: unknown): string {
  const cause = (error as { cause?: { description?: unknown } } | null)?.cause;
  if (typeof cause?.description === 'string') return cause.description;
  return error instanceof Error ? error.message : String(error);
}

function translate(what: string, error: unknown): CanarybotError {
  if (error instanceof CanarybotError) return error;
  const status = statusOf(error);
  const description = descriptionOf(error).slice(0, 300);
  if (status === 400 && LOST_RACE.test(description)) return new CanarybotError('GITOPS_RACE', `GitLab ${what}: ${description}`);
  if (status === null || status >= 500 || status === 429 || status === 408) {
    return new CanarybotError('GITLAB_UNAVAILABLE', `GitLab ${what} failed${status ? ` (${status})` : ''}: ${description}`);
  }
  return new CanarybotError('GITLAB_REFUSED', `GitLab ${what} answered ${status}: ${description}`);
}

function toMergeRequest(raw: unknown): ConfigMergeRequest {
  const mr = raw as Raw;
  const state = mr.state === 'opened' ? 'open' : (mr.state as ConfigMergeRequest['state']);
  const pipeline = (mr.head_pipeline as Raw | null | undefined)?.status;
  return {
    iid: Number(mr.iid),
    webUrl: String(mr.web_url ?? ''),
    state,
    mergeCommitSha: typeof mr.merge_commit_sha === 'string' ? mr.merge_commit_sha : null,
    pipeline: pipeline === undefined || pipeline === null ? 'none' : pipeline === 'success' ? 'success' : pipeline === 'failed' || pipeline === 'canceled' ? 'failed' : 'running',
    mergeWhenPipelineSucceeds: mr.merge_when_pipeline_succeeds === true,
    description: typeof mr.description === 'string' ? mr.description : '',
  };
}

export function createGitLabConfigRepository(options: { url: string; token: string; timeoutMs?: number }): ConfigRepository {
  const host = options.url.replace(/\/+$/, '');
  const api = new Gitlab({ host, token: options.token, queryTimeout: options.timeoutMs ?? 10_000 });
  const paths = new Map<string, string>();
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw translate(what, error);
    }
  };
  const orNull = async <T>(what: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw translate(what, error);
    }
  };
  const projectPath = async (project: string | number): Promise<string> => {
    const key = String(project);
    const known = paths.get(key);
    if (known) return known;
    const raw = (await call('GET /projects/:id', () => api.Projects.show(project))) as Raw;
    const path = String(raw.path_with_namespace ?? key);
    paths.set(key, path);
    return path;
  };
  const findMergeRequest: ConfigRepository['findMergeRequest'] = async (project, request) => {
    const found = (await call('GET /projects/:id/merge_requests', () =>
      api.MergeRequests.all({ projectId: project, sourceBranch: request.sourceBranch, targetBranch: request.targetBranch, state: request.state === 'open' ? 'opened' : 'merged', orderBy: 'created_at', sort: 'desc', perPage: 20, maxPages: 1 }),
    )) as unknown[];
    return found.length > 0 ? toMergeRequest(found[0]) : null;
  };

  return {
    async defaultBranch(project) {
      const raw = (await call('GET /projects/:id', () => api.Projects.show(project))) as Raw;
      paths.set(String(project), String(raw.path_with_namespace ?? project));
      return typeof raw.default_branch === 'string' && raw.default_branch !== '' ? raw.default_branch : 'main';
    },
    async readFile(project, path, ref): Promise<RepositoryFile | null> {
      const raw = (await orNull('GET /projects/:id/repository/files/:path', () => api.RepositoryFiles.show(project, path, ref))) as Raw | null;
      if (!raw) return null;
      const content = raw.encoding === 'base64' ? Buffer.from(String(raw.content ?? ''), 'base64').toString('utf8') : String(raw.content ?? '');
      return { path, content, lastCommitId: String(raw.last_commit_id), commitId: String(raw.commit_id) };
    },
    async branchHead(project, branch) {
      const raw = (await orNull('GET /projects/:id/repository/branches/:branch', () => api.Branches.show(project, branch))) as Raw | null;
      return raw ? String((raw.commit as Raw).id) : null;
    },
    async commit(project, request): Promise<CommitResult> {
      const actions = request.changes.map((change: FileChange) => ({ action: 'update' as const, filePath: change.path, content: change.content, lastCommitId: change.lastCommitId }));
      const raw = (await call('POST /projects/:id/repository/commits', () =>
        api.Commits.create(project, request.branch, request.message, actions, request.startBranch ? { startBranch: request.startBranch } : {}),
      )) as Raw;
      const sha = String(raw.id);
      return { sha, webUrl: typeof raw.web_url === 'string' ? raw.web_url : `${host}/${await projectPath(project)}/-/commit/${sha}` };
    },
    async createMergeRequest(project, request) {
      try {
        return toMergeRequest(await api.MergeRequests.create(project, request.sourceBranch, request.targetBranch, request.title, { description: request.description, removeSourceBranch: true }));
      } catch (error) {
        // 409: "Another open merge request already exists for this source branch" (one per source and
        // target): another replica, or an earlier try whose answer was lost, opened it. That one is it.
        if (statusOf(error) !== 409) throw translate('POST /projects/:id/merge_requests', error);
        const open = await findMergeRequest(project, { sourceBranch: request.sourceBranch, targetBranch: request.targetBranch, state: 'open' });
        if (!open) throw translate('POST /projects/:id/merge_requests', error);
        return open;
      }
    },
    async mergeRequest(project, iid) {
      return toMergeRequest(await call('GET /projects/:id/merge_requests/:iid', () => api.MergeRequests.show(project, iid)));
    },
    findMergeRequest,
    async merge(project, iid, options) {
      return toMergeRequest(await call('PUT /projects/:id/merge_requests/:iid/merge', () =>
        api.MergeRequests.merge(project, iid, { ...(options.whenPipelineSucceeds ? { mergeWhenPipelineSucceeds: true } : {}), ...(options.sha ? { sha: options.sha } : {}), shouldRemoveSourceBranch: true }),
      ));
    },
    async closeMergeRequest(project, iid) {
      return toMergeRequest(await call('PUT /projects/:id/merge_requests/:iid', () => api.MergeRequests.edit(project, iid, { stateEvent: 'close' })));
    },
    commitUrl(project, sha) {
      return `${host}/${paths.get(String(project)) ?? String(project)}/-/commit/${sha}`;
    },
  };
}
