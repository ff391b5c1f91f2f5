// The repository endpoints of the GitLab API test server, answered as GitLab's REST API documents
// them: repository files (JSON with base64 content and last_commit_id, and raw), the Commits API
// with actions, branches, and merge requests created, set to merge when the pipeline succeeds, or
// merged (405 when not open, 406 "Branch cannot be merged" on a conflict, 409 on a stale `sha`); a
// second open MR from the same source into the same target is refused with 409.
// https://docs.gitlab.com/api/repository_files/ · https://docs.gitlab.com/api/commits/ ·
// https://docs.gitlab.com/api/merge_requests/#merge-a-merge-request

import { createHash } from 'node:crypto';
import { GitLabError, type GitLabStore, type SeedMergeRequest, type SeedProject } from '../gitlab-api-store.js';
import { Repository, RepositoryError, type CommitAction, type StoredCommit } from './repository.js';

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  userId: number;
}
export type RouteAnswer = { status: number; body: unknown; headers?: Record<string, string>; raw?: boolean };
export type RouteFn = (method: string, pattern: string, handler: (req: RouteRequest) => RouteAnswer) => void;

export class GitLabRepositories {
  private readonly repositories = new Map<number, Repository>();
  private pipelineId = 5000;

  constructor(
    private readonly store: GitLabStore,
    private readonly now: () => number,
  ) {}

  /** The project's repository, created from its seeded files the first time. */
  of(project: SeedProject): Repository {
    let repository = this.repositories.get(project.id);
    if (!repository) {
      if (project.files === undefined) throw new GitLabError(404, '404 Repository Not Found');
      repository = new Repository(project.path, this.now, project.defaultBranch ?? 'main', project.files);
      this.repositories.set(project.id, repository);
    }
    return repository;
  }

  repository(idOrPath: string | number): Repository {
    return this.of(this.store.project(String(idOrPath)));
  }

  commitJson(project: SeedProject, commit: StoredCommit): Record<string, unknown> {
    const [title = ''] = commit.message.split('\n');
    return {
      id: commit.id,
      short_id: commit.id.slice(0, 8),
      title,
      message: commit.message,
      parent_ids: commit.parentIds,
      author_name: commit.authorName,
      author_email: commit.authorEmail,
      authored_date: commit.createdAt,
      committer_name: commit.authorName,
      committer_email: commit.authorEmail,
      committed_date: commit.createdAt,
      created_at: commit.createdAt,
      web_url: `http://gitlab.test/${project.path}/-/commit/${commit.id}`,
      project_id: project.id,
      status: null,
      last_pipeline: null,
    };
  }

  /** Opens a pipeline on an open MR of a project with CI (a fresh commit on its source branch). */
  private startPipeline(project: SeedProject, mr: SeedMergeRequest, sha: string): void {
    if (!project.pipelines) return;
    this.pipelineId += 1;
    mr.headPipeline = { id: this.pipelineId, sha, status: 'running' };
  }

  /** The MR's pipeline ends (test control); success with merge-when-pipeline-succeeds merges it. */
  finishPipeline(projectId: number, iid: number, status: 'success' | 'failed'): void {
    const mr = this.store.mergeRequest(projectId, iid);
    if (!mr.headPipeline) throw new Error(`MR !${iid} has no pipeline`);
    mr.headPipeline = { ...mr.headPipeline, status };
    if (status === 'success' && mr.mergeWhenPipelineSucceeds && mr.state === 'opened') this.mergeNow(this.store.project(String(projectId)), mr, undefined);
  }

  closeMergeRequest(projectId: number, iid: number): void {
    const mr = this.store.mergeRequest(projectId, iid);
    mr.state = 'closed';
    mr.closedAt = new Date(this.now()).toISOString();
    mr.mergeWhenPipelineSucceeds = false;
  }

  private mergeNow(project: SeedProject, mr: SeedMergeRequest, message: string | undefined): void {
    const repository = this.of(project);
    const source = mr.sourceBranch ?? 'feature';
    const target = mr.targetBranch ?? 'main';
    const text = message ?? `Merge branch '${source}' into '${target}'\n\n${mr.title ?? ''}\n\nSee merge request ${project.path}!${mr.iid}`;
    const merged = repository.merge(source, target, text, this.store.user(this.store.botUserId).name ?? 'canarybot');
    if (!merged) throw new GitLabError(406, 'Branch cannot be merged');
    mr.state = 'merged';
    mr.mergeCommitSha = merged.id;
    mr.mergedAt = new Date(this.now()).toISOString();
    mr.mergeWhenPipelineSucceeds = false;
    mr.commits = [...(mr.commits ?? []), merged.id];
  }

  register(route: RouteFn): void {
    const project = (req: RouteRequest): SeedProject => this.store.project(req.params.id ?? '');
    const guard = <T>(run: () => T): T => {
      try {
        return run();
      } catch (error) {
        if (error instanceof RepositoryError) throw new GitLabError(error.status, error.message);
        throw error;
      }
    };
    const fileAt = (req: RouteRequest) => {
      const p = project(req);
      const repository = this.of(p);
      const ref = req.query.ref;
      if (!ref) throw new GitLabError(400, 'ref is missing');
      const commit = guard(() => repository.resolve(ref));
      const path = req.params.file_path ?? '';
      const content = commit?.files.get(path);
      if (!commit || content === undefined) throw new GitLabError(404, '404 File Not Found');
      const blobId = createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0${content}`).digest('hex');
      return { commit, path, content, blobId, lastCommitId: repository.lastCommitId(commit.id, path), ref };
    };

    route('GET', '/projects/:id/repository/files/:file_path', (req) => {
      const file = fileAt(req);
      const headers = { 'x-gitlab-last-commit-id': file.lastCommitId, 'x-gitlab-commit-id': file.commit.id, 'x-gitlab-blob-id': file.blobId };
      return {
        status: 200,
        headers,
        body: {
          file_name: file.path.split('/').pop(),
          file_path: file.path,
          size: Buffer.byteLength(file.content),
          encoding: 'base64',
          content_sha256: createHash('sha256').update(file.content).digest('hex'),
          ref: file.ref,
          blob_id: file.blobId,
          commit_id: file.commit.id,
          last_commit_id: file.lastCommitId,
          execute_filemode: false,
          content: Buffer.from(file.content, 'utf8').toString('base64'),
        },
      };
    });
    route('GET', '/projects/:id/repository/files/:file_path/raw', (req) => {
      const file = fileAt(req);
      return { status: 200, raw: true, body: file.content, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-gitlab-last-commit-id': file.lastCommitId, 'x-gitlab-commit-id': file.commit.id } };
    });
    route('POST', '/projects/:id/repository/commits', (req) => {
      const p = project(req);
      const body = req.body;
      if (typeof body.branch !== 'string' || body.branch === '') throw new GitLabError(400, 'branch is missing');
      if (typeof body.commit_message !== 'string' || body.commit_message === '') throw new GitLabError(400, 'commit_message is missing');
      if (!Array.isArray(body.actions) || body.actions.length === 0) throw new GitLabError(400, 'actions is missing');
      const actions: CommitAction[] = (body.actions as Record<string, unknown>[]).map((a) => ({
        action: a.action as CommitAction['action'],
        filePath: String(a.file_path ?? ''),
        ...(typeof a.previous_path === 'string' ? { previousPath: a.previous_path } : {}),
        ...(typeof a.content === 'string' ? { content: a.content } : {}),
        ...(a.encoding === 'base64' ? { encoding: 'base64' as const } : {}),
        ...(typeof a.last_commit_id === 'string' ? { lastCommitId: a.last_commit_id } : {}),
      }));
      const commit = guard(() =>
        this.of(p).commit({
          branch: body.branch as string,
          message: body.commit_message as string,
          actions,
          ...(typeof body.start_branch === 'string' ? { startBranch: body.start_branch } : {}),
          ...(typeof body.start_sha === 'string' ? { startSha: body.start_sha } : {}),
          ...(typeof body.author_name === 'string' ? { authorName: body.author_name } : {}),
          ...(typeof body.author_email === 'string' ? { authorEmail: body.author_email } : {}),
        }),
      );
      // A push to an open MR's source branch runs its pipeline again.
      for (const mr of this.store.mergeRequests.values()) {
        if (mr.projectId === p.id && mr.state === 'opened' && mr.sourceBranch === body.branch) {
          mr.sha = commit.id;
          this.startPipeline(p, mr, commit.id);
        }
      }
      return { status: 201, body: { ...this.commitJson(p, commit), stats: { additions: actions.length, deletions: actions.length, total: actions.length * 2 } } };
    });
    route('GET', '/projects/:id/repository/commits/:sha', (req) => {
      const p = project(req);
      const commit = guard(() => this.of(p).mustResolve(req.params.sha ?? ''));
      return { status: 200, body: this.commitJson(p, commit) };
    });
    route('GET', '/projects/:id/repository/branches/:branch', (req) => {
      const p = project(req);
      const repository = this.of(p);
      const name = req.params.branch ?? '';
      const head = repository.branches.get(name);
      if (head === undefined) throw new GitLabError(404, '404 Branch Not Found');
      return { status: 200, body: this.branchJson(p, name, repository.commits.get(head)!) };
    });
    route('POST', '/projects/:id/repository/branches', (req) => {
      const p = project(req);
      const repository = this.of(p);
      const name = typeof req.body.branch === 'string' ? req.body.branch : '';
      const ref = typeof req.body.ref === 'string' ? req.body.ref : '';
      if (!name) throw new GitLabError(400, 'branch is missing');
      if (!ref) throw new GitLabError(400, 'ref is missing');
      if (!repository.resolve(ref)) throw new GitLabError(400, 'Invalid reference name: ' + ref);
      guard(() => repository.createBranch(name, ref));
      return { status: 201, body: this.branchJson(p, name, repository.resolve(name)!) };
    });
    route('DELETE', '/projects/:id/repository/branches/:branch', (req) => {
      guard(() => this.of(project(req)).deleteBranch(req.params.branch ?? ''));
      return { status: 204, body: null };
    });
    route('POST', '/projects/:id/merge_requests', (req) => {
      const p = project(req);
      const repository = this.of(p);
      const source = typeof req.body.source_branch === 'string' ? req.body.source_branch : '';
      const target = typeof req.body.target_branch === 'string' ? req.body.target_branch : '';
      const title = typeof req.body.title === 'string' ? req.body.title : '';
      if (!source) throw new GitLabError(400, 'source_branch is missing');
      if (!target) throw new GitLabError(400, 'target_branch is missing');
      if (!title) throw new GitLabError(400, 'title is missing');
      const head = repository.branches.get(source);
      if (head === undefined || !repository.branches.has(target)) throw new GitLabError(400, 'Invalid source or target branch');
      const open = [...this.store.mergeRequests.values()].find((mr) => mr.projectId === p.id && mr.state === 'opened' && mr.sourceBranch === source && mr.targetBranch === target);
      // GitLab's validate_branches error, answered by conflict!(errors[:validate_branches]): 409 with the
      // messages as an array. https://docs.gitlab.com/api/merge_requests/#create-mr
      if (open) return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !${open.iid}`] } };
      const iid = Math.max(0, ...[...this.store.mergeRequests.values()].filter((mr) => mr.projectId === p.id).map((mr) => mr.iid)) + 1;
      const mr: SeedMergeRequest = {
        projectId: p.id,
        iid,
        title,
        state: 'opened',
        authorId: req.userId,
        sourceBranch: source,
        targetBranch: target,
        sha: head,
        commits: [head],
        description: typeof req.body.description === 'string' ? req.body.description : '',
        updatedAt: new Date(this.now()).toISOString(),
      };
      this.startPipeline(p, mr, head);
      this.store.mergeRequests.set(`${p.id}#${iid}`, mr);
      return { status: 201, body: this.store.mergeRequestJson(mr) };
    });
    // https://docs.gitlab.com/api/merge_requests/#update-mr — state_event close|reopen; a merged MR
    // cannot change state (GitLab's state machine refuses the transition and the update ignores it).
    route('PUT', '/projects/:id/merge_requests/:iid', (req) => {
      const p = project(req);
      const mr = this.store.mergeRequest(p.id, Number(req.params.iid));
      const event = req.body.state_event;
      if (event !== undefined && event !== 'close' && event !== 'reopen') throw new GitLabError(400, 'state_event does not have a valid value');
      if (event === 'close' && mr.state === 'opened') this.closeMergeRequest(p.id, mr.iid);
      if (event === 'reopen' && mr.state === 'closed') mr.state = 'opened';
      return { status: 200, body: this.store.mergeRequestJson(mr) };
    });
    route('PUT', '/projects/:id/merge_requests/:iid/merge', (req) => {
      const p = project(req);
      const mr = this.store.mergeRequest(p.id, Number(req.params.iid));
      if (mr.state !== 'opened') throw new GitLabError(405, '405 Method Not Allowed');
      const head = this.of(p).branches.get(mr.sourceBranch ?? '');
      if (typeof req.body.sha === 'string' && req.body.sha !== head) throw new GitLabError(409, 'SHA does not match HEAD of source branch: ' + (head ?? ''));
      const auto = req.body.merge_when_pipeline_succeeds === true || req.body.merge_when_pipeline_succeeds === 'true' || req.body.auto_merge === true || req.body.auto_merge === 'true';
      if (auto && mr.headPipeline && mr.headPipeline.status === 'running') {
        mr.mergeWhenPipelineSucceeds = true;
        return { status: 200, body: this.store.mergeRequestJson(mr) };
      }
      if (mr.headPipeline?.status === 'failed') throw new GitLabError(405, '405 Method Not Allowed');
      this.mergeNow(p, mr, typeof req.body.merge_commit_message === 'string' ? req.body.merge_commit_message : undefined);
      return { status: 200, body: this.store.mergeRequestJson(mr) };
    });
  }

  private branchJson(project: SeedProject, name: string, commit: StoredCommit): Record<string, unknown> {
    return {
      name,
      merged: false,
      protected: name === (project.defaultBranch ?? 'main'),
      default: name === (project.defaultBranch ?? 'main'),
      developers_can_push: false,
      developers_can_merge: false,
      can_push: true,
      web_url: `http://gitlab.test/${project.path}/-/tree/${name}`,
      commit: this.commitJson(project, commit),
    };
  }
}
