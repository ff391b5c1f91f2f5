// The GitLab API test server's repository endpoints through the real @gitbeaker/rest client and the
// ConfigRepository adapter: files with last_commit_id, raw, the Commits API with per-file
// last_commit_id checks answered as GitLab does, a concurrent commit between read and write, branches,
// merge requests merged at once or when their pipeline succeeds.

import { Gitlab } from '@gitbeaker/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CanarybotError } from '../../src/core/errors.js';
import type { ConfigRepository } from '../../src/gitops/config-repository.js';
import { createGitLabConfigRepository } from '../../src/gitops/gitlab-config-repository.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';

const PROJECT = 'platform/k8s-config';
const VALUES = '# reviews\nimage:\n  tag: "v1"   # pinned by canarybot\n';
const OTHER = 'replicas: 3\n';

let gitlab: GitLabApiServer;
let repo: ConfigRepository;
beforeEach(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({ projects: [{ id: 42, path: PROJECT, defaultBranch: 'main', files: { 'apps/reviews/values.yaml': VALUES, 'apps/other.yaml': OTHER } }] });
  repo = createGitLabConfigRepository({ url: gitlab.url, token: gitlab.token });
});
afterEach(async () => {
  await gitlab.close();
});

/** Someone else's commit on main, as the GitLab UI would make it. */
function humanCommit(path: string, content: string): string {
  const repository = gitlab.repositories.repository(42);
  return repository.commit({ branch: 'main', message: 'hand edit', authorName: 'Alice', actions: [{ action: 'update', filePath: path, content }] }).id;
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as CanarybotError);

describe('repository files', () => {
  it('answers content, the ref\'s commit and the last commit that changed the file; raw gives the bytes', async () => {
    const before = await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main');
    const other = humanCommit('apps/other.yaml', 'replicas: 4\n');

    const after = await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main');
    const raw = await new Gitlab({ host: gitlab.url, token: gitlab.token }).RepositoryFiles.showRaw(PROJECT, 'apps/reviews/values.yaml', 'main');

    expect(after).toEqual({ path: 'apps/reviews/values.yaml', content: VALUES, lastCommitId: before!.lastCommitId, commitId: other });
    expect(before!.commitId).not.toBe(other);
    expect(raw).toBe(VALUES);
    expect(await repo.readFile(PROJECT, 'apps/missing.yaml', 'main')).toBeNull();
  });
});

describe('the Commits API', () => {
  it('commits several files in one commit when every last_commit_id is current', async () => {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    const other = (await repo.readFile(PROJECT, 'apps/other.yaml', 'main'))!;

    const result = await repo.commit(PROJECT, {
      branch: 'main',
      message: 'canarybot: promote reviews to v2\n\nCanarybot-Release: r1',
      changes: [
        { path: values.path, content: VALUES.replace('"v1"', '"v2"'), lastCommitId: values.lastCommitId },
        { path: other.path, content: 'replicas: 5\n', lastCommitId: other.lastCommitId },
      ],
    });

    expect(await repo.branchHead(PROJECT, 'main')).toBe(result.sha);
    expect(result.webUrl).toBe(`http://gitlab.test/${PROJECT}/-/commit/${result.sha}`);
    expect((await repo.readFile(PROJECT, values.path, 'main'))!).toMatchObject({ content: VALUES.replace('"v1"', '"v2"'), lastCommitId: result.sha });
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')[0]!.body).toMatchObject({
      branch: 'main',
      actions: [{ action: 'update', file_path: values.path, last_commit_id: values.lastCommitId }, { action: 'update', file_path: other.path }],
    });
  });

  it('refuses a stale last_commit_id with GitLab\'s 400 and changes nothing', async () => {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    const human = humanCommit(values.path, VALUES.replace('v1', 'v1-hotfix'));

    const failure = await failureOf(repo.commit(PROJECT, { branch: 'main', message: 'm', changes: [{ path: values.path, content: 'x', lastCommitId: values.lastCommitId }] }));

    expect(failure?.code).toBe('GITOPS_RACE');
    expect(gitlab.callsTo('POST /projects/:id/repository/commits').map((c) => c.status)).toEqual([400]);
    expect(failure?.message).toContain('You are attempting to update a file that has changed since you started editing it.');
    expect(await repo.branchHead(PROJECT, 'main')).toBe(human);
  });

  it('refuses a commit whose branch moved between GitLab\'s read and its ref update: incorrect old value provided', async () => {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    let concurrent = '';
    gitlab.repositories.repository(42).interleave('before-ref-update', () => (concurrent = humanCommit('apps/other.yaml', 'replicas: 9\n')));

    const failure = await failureOf(repo.commit(PROJECT, { branch: 'main', message: 'm', changes: [{ path: values.path, content: 'x', lastCommitId: values.lastCommitId }] }));

    expect(failure?.code).toBe('GITOPS_RACE');
    expect(failure?.message).toMatch(/incorrect old value provided/);
    expect(await repo.branchHead(PROJECT, 'main')).toBe(concurrent);
  });

  it('commits on top of a concurrent commit to another file (GitLab applies the actions to the branch head)', async () => {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    let concurrent = '';
    gitlab.repositories.repository(42).interleave('before-check', () => (concurrent = humanCommit('apps/other.yaml', 'replicas: 9\n')));

    const result = await repo.commit(PROJECT, { branch: 'main', message: 'm', changes: [{ path: values.path, content: 'x', lastCommitId: values.lastCommitId }] });

    expect(gitlab.repositories.repository(42).commits.get(result.sha)!.parentIds).toEqual([concurrent]);
    expect((await repo.readFile(PROJECT, 'apps/other.yaml', 'main'))!.content).toBe('replicas: 9\n');
  });

  it('creates a branch from start_branch and refuses an unknown branch without it', async () => {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    const change = [{ path: values.path, content: 'y', lastCommitId: values.lastCommitId }];

    const missing = await failureOf(repo.commit(PROJECT, { branch: 'canarybot/reviews-v2', message: 'm', changes: change }));
    const made = await repo.commit(PROJECT, { branch: 'canarybot/reviews-v2', startBranch: 'main', message: 'm', changes: change });

    expect(missing?.code).toBe('GITLAB_REFUSED');
    expect(missing?.message).toContain('You can only create or edit files when you are on a branch');
    expect(await repo.branchHead(PROJECT, 'canarybot/reviews-v2')).toBe(made.sha);
    expect((await repo.readFile(PROJECT, values.path, 'main'))!.content).toBe(VALUES);
  });
});

describe('merge requests', () => {
  async function branchWithChange(): Promise<string> {
    const values = (await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!;
    return (await repo.commit(PROJECT, { branch: 'canarybot/reviews-v2', startBranch: 'main', message: 'm', changes: [{ path: values.path, content: 'tag: v2\n', lastCommitId: values.lastCommitId }] })).sha;
  }

  it('merges at once when the project runs no pipeline', async () => {
    await branchWithChange();
    const mr = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd' });

    const merged = await repo.merge(PROJECT, mr.iid, { whenPipelineSucceeds: false });

    expect(mr).toMatchObject({ state: 'open', pipeline: 'none' });
    expect(merged.state).toBe('merged');
    expect(await repo.branchHead(PROJECT, 'main')).toBe(merged.mergeCommitSha);
    expect((await repo.readFile(PROJECT, 'apps/reviews/values.yaml', 'main'))!.content).toBe('tag: v2\n');
  });

  it('merges when the pipeline succeeds, and not before', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, defaultBranch: 'main', files: { 'apps/reviews/values.yaml': VALUES }, pipelines: true }] });
    await branchWithChange();
    const mr = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd' });

    const waiting = await repo.merge(PROJECT, mr.iid, { whenPipelineSucceeds: true });
    gitlab.repositories.finishPipeline(42, mr.iid, 'success');
    const done = await repo.mergeRequest(PROJECT, mr.iid);

    expect(waiting).toMatchObject({ state: 'open', pipeline: 'running', mergeWhenPipelineSucceeds: true });
    expect(done.state).toBe('merged');
    expect(await repo.branchHead(PROJECT, 'main')).toBe(done.mergeCommitSha);
  });

  it('refuses a second open MR from the same source into the same target with GitLab\'s 409 and its message array; one into another target is fine', async () => {
    await branchWithChange();
    const body = JSON.stringify({ source_branch: 'canarybot/reviews-v2', target_branch: 'main', title: 't' });
    const post = () => fetch(`${gitlab.url}/api/v4/projects/42/merge_requests`, { method: 'POST', headers: { 'PRIVATE-TOKEN': gitlab.token, 'content-type': 'application/json' }, body });

    const first = await post();
    const second = await post();
    gitlab.repositories.repository(42).createBranch('release', 'main');
    const otherTarget = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'release', title: 't', description: 'd' });

    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(await second.json()).toEqual({ message: ['Another open merge request already exists for this source branch: !1'] });
    expect(otherTarget.iid).toBe(2);
  });

  it('createMergeRequest answers the open MR when GitLab refuses a second one (409); findMergeRequest finds it, a merged one, never a closed one', async () => {
    await branchWithChange();
    const created = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd\n\nCanarybot-Release: rel-1' });

    const again = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd' });
    const open = await repo.findMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', state: 'open' });
    const intoOther = await repo.findMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'release', state: 'open' });
    gitlab.repositories.closeMergeRequest(42, created.iid);
    const afterClose = await repo.findMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', state: 'open' });
    const reopened = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd' });
    await repo.merge(PROJECT, reopened.iid, { whenPipelineSucceeds: false });
    const merged = await repo.findMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', state: 'merged' });

    expect(again).toEqual(created);
    expect(gitlab.callsTo('POST /projects/:id/merge_requests').map((call) => call.status)).toEqual([201, 409, 201]);
    expect(open).toMatchObject({ iid: created.iid, state: 'open', description: 'd\n\nCanarybot-Release: rel-1' });
    expect(intoOther).toBeNull();
    expect(afterClose).toBeNull();
    expect(reopened.iid).toBe(2);
    expect(merged).toMatchObject({ iid: 2, state: 'merged', mergeCommitSha: await repo.branchHead(PROJECT, 'main') });
  });

  it('answers 406 when the target changed the same file, 405 for a closed MR', async () => {
    await branchWithChange();
    const mr = await repo.createMergeRequest(PROJECT, { sourceBranch: 'canarybot/reviews-v2', targetBranch: 'main', title: 't', description: 'd' });
    humanCommit('apps/reviews/values.yaml', 'tag: v1-hotfix\n');

    const conflict = await failureOf(repo.merge(PROJECT, mr.iid, { whenPipelineSucceeds: false }));
    gitlab.repositories.closeMergeRequest(42, mr.iid);
    const closed = await failureOf(repo.merge(PROJECT, mr.iid, { whenPipelineSucceeds: false }));

    expect(conflict?.message).toMatch(/406: Branch cannot be merged/);
    expect(closed?.message).toMatch(/405/);
  });
});
