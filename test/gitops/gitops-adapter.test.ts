// The GitOps adapter against the GitLab API test server with the real @gitbeaker client: pre-flight
// reads and refuses drift with zero writes, promotion is one commit that changes only the pinned
// values (message and trailer as pinned), a lost race is re-read and retried so the bot commits
// exactly once, two replicas on one branch are serialised by the Redis lock, and a rollback is one
// revert commit that never overwrites a human's later change.

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CanarybotError } from '../../src/core/errors.js';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { TrainGitOpsRequest } from '../../src/core/ports.js';
import type { Release } from '../../src/core/release.js';
import { createGitLabConfigRepository } from '../../src/gitops/gitlab-config-repository.js';
import { createGitOpsAdapter } from '../../src/gitops/gitops-adapter.js';
import { inProcessRepositoryLock, redisRepositoryLock } from '../../src/gitops/repository-lock.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';

const PROJECT = 'platform/k8s-config';
const OLD = 'registry.example.com/bookinfo/reviews:v1';
const NEW = 'registry.example.com/bookinfo/reviews:0a1b2c3d';
const VALUES = '# reviews\nimage:\n  repository: registry.example.com/bookinfo/reviews\n  tag: "v1"   # canarybot writes this\n\nreplicas: 3\n';
const KUSTOMIZATION = 'images:\n  - name: registry.example.com/bookinfo/reviews\n    newTag: v1 # pinned\n';

const SPEC: GitOpsSpec = {
  repository: PROJECT,
  branch: 'main',
  files: [
    { path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } },
    { path: 'apps/reviews/kustomization.yaml', pin: { kind: 'kustomizeImage', image: 'registry.example.com/bookinfo/reviews' } },
  ],
  via: 'commit',
  onDrift: 'refuse',
  mergeTimeoutMs: 600_000,
};

let gitlab: GitLabApiServer;
beforeEach(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION, 'README.md': 'config\n' } }] });
});
afterEach(async () => {
  await gitlab.close();
});

function adapter(lock = inProcessRepositoryLock()) {
  return createGitOpsAdapter({ repository: createGitLabConfigRepository({ url: gitlab.url, token: gitlab.token }), lock, sleep: async () => undefined });
}

function releaseOf(spec: Partial<GitOpsSpec> = {}, patch: Partial<Release> = {}): Release {
  return releaseRecord({ id: 'rel-7', definition: reviewsDefinition({ gitops: { ...SPEC, ...spec } }), image: NEW, mr: { projectId: 7, iid: 12, url: 'http://gitlab.test/bookinfo/reviews/-/merge_requests/12' }, ...patch });
}

/** The release after a pre-flight, as the core records it. */
async function preflighted(spec: Partial<GitOpsSpec> = {}): Promise<Release> {
  const release = releaseOf(spec);
  const report = await adapter().preflight(release, OLD);
  return { ...release, gitops: { repository: PROJECT, branch: report.branch!, pins: report.pins!, warnings: report.warnings!, commit: null, mergeRequest: null, revert: null, revertRefused: null, sync: null } };
}

const file = (path: string) => gitlab.repositories.repository(42).resolve('main')!.files.get(path);
const commitsOnMain = () => {
  const repository = gitlab.repositories.repository(42);
  const out: string[] = [];
  for (let commit = repository.resolve('main'); commit; commit = commit.parentIds[0] ? repository.commits.get(commit.parentIds[0]) ?? null : null) out.push(commit.message.split('\n')[0]!);
  return out;
};
const human = (path: string, content: string) => gitlab.repositories.repository(42).commit({ branch: 'main', message: 'hand edit', authorName: 'Alice', actions: [{ action: 'update', filePath: path, content }] });

describe('pre-flight', () => {
  it('records every pinned value and what promotion will write', async () => {
    const report = await adapter().preflight(releaseOf(), OLD);

    expect(report).toEqual({
      branch: 'main',
      warnings: [],
      pins: [
        { path: 'apps/reviews/values.yaml', where: 'image.tag', before: 'v1', after: '0a1b2c3d' },
        { path: 'apps/reviews/kustomization.yaml', where: 'images[name=registry.example.com/bookinfo/reviews].newTag', before: 'v1', after: '0a1b2c3d' },
      ],
    });
  });

  it('refuses drift naming the file, the value in Git and the image in the cluster, with zero writes', async () => {
    human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"v0"'));
    gitlab.clearCalls();

    const failure = (await adapter().preflight(releaseOf(), OLD).catch((error: unknown) => error)) as CanarybotError;

    expect(failure.code).toBe('GITOPS_DRIFT');
    expect(failure.message).toBe('Git and the cluster disagree (onDrift: refuse, nothing was written): apps/reviews/values.yaml image.tag is v0 in platform/k8s-config@main, but Deployment reviews-primary on default runs registry.example.com/bookinfo/reviews:v1');
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
  });

  it('with onDrift: warn carries on and says so', async () => {
    human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"v0"'));

    const report = await adapter().preflight(releaseOf({ onDrift: 'warn' }), OLD);

    expect(report.warnings).toEqual(['apps/reviews/values.yaml image.tag is v0 in platform/k8s-config@main, but Deployment reviews-primary on default runs registry.example.com/bookinfo/reviews:v1']);
  });

  it.each([
    ['a missing file', { files: [{ path: 'apps/missing.yaml', pin: { kind: 'helmValues' as const, path: ['image', 'tag'] } }] }, /apps\/missing.yaml does not exist on main of platform\/k8s-config/],
    ['a missing key', { files: [{ path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues' as const, path: ['image', 'digest'] } }] }, /apps\/reviews\/values.yaml has no key image.digest/],
  ])('refuses %s', async (_name, spec, message) => {
    const failure = (await adapter().preflight(releaseOf(spec), OLD).catch((error: unknown) => error)) as CanarybotError;

    expect(failure.code).toBe('PREFLIGHT_FAILED');
    expect(failure.message).toMatch(message);
  });
});

describe('promotion', () => {
  it('is one commit changing only the pinned values, with the pinned message and trailer', async () => {
    const release = await preflighted();

    const answer = await adapter().promote(release);

    const commit = gitlab.repositories.repository(42).resolve('main')!;
    expect(answer).toEqual({ done: true, report: { commit: { sha: commit.id, url: `http://gitlab.test/${PROJECT}/-/commit/${commit.id}` } } });
    expect(commit.message).toBe('canarybot: promote reviews to 0a1b2c3d\n\nMerge request: http://gitlab.test/bookinfo/reviews/-/merge_requests/12\n\nCanarybot-Release: rel-7\n');
    expect(file('apps/reviews/values.yaml')).toBe(VALUES.replace('"v1"', '"0a1b2c3d"'));
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION.replace('newTag: v1', 'newTag: 0a1b2c3d'));
    expect(file('README.md')).toBe('config\n');
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')).toHaveLength(1);
  });

  it('re-run after a crash finds its commit and writes nothing', async () => {
    const release = await preflighted();
    const first = await adapter().promote(release);

    const again = await adapter().promote(release);

    expect(again.report.commit?.sha).toBe(first.report.commit?.sha);
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')).toHaveLength(1);
  });

  it.each([
    ['the branch moving between GitLab\'s read and its ref update', 'before-ref-update' as const, 'README.md', 'config, edited\n', 400],
    ['a human editing the same file first', 'before-check' as const, 'apps/reviews/values.yaml', VALUES.replace('replicas: 3', 'replicas: 4'), 400],
  ])('survives a lost race to %s: re-read, re-applied, committed exactly once', async (_name, at, path, content, status) => {
    const release = await preflighted();
    gitlab.repositories.repository(42).interleave(at, () => human(path, content));

    await adapter().promote(release);

    expect(gitlab.callsTo('POST /projects/:id/repository/commits').map((call) => call.status)).toEqual([status, 201]);
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot:'))).toEqual(['canarybot: promote reviews to 0a1b2c3d']);
    expect(file(path)).toContain(path === 'README.md' ? 'edited' : 'replicas: 4');
    expect(file('apps/reviews/values.yaml')).toContain('tag: "0a1b2c3d"');
  });
});

describe('a tag a human writes while the bot is between its read and its write', () => {
  it('promotion: a tag changed since pre-flight is left as it is, nothing is written, and the promotion is refused', async () => {
    const release = await preflighted();
    human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"hotfix1"')); // during the canary

    const failure = (await adapter().promote(release).catch((error: unknown) => error)) as CanarybotError;

    expect(failure.code).toBe('GITOPS_REFUSED');
    expect(failure.message).toBe('apps/reviews/values.yaml image.tag is now hotfix1 in platform/k8s-config@main, not v1 as read at pre-flight: changed during the release, left as it is (nothing was promoted)');
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot:'))).toEqual([]);
    expect(file('apps/reviews/values.yaml')).toContain('"hotfix1"');
  });

  it('promotion: a tag a human writes inside the bot\'s lost race is seen on the re-read, not overwritten', async () => {
    const release = await preflighted();
    gitlab.repositories.repository(42).interleave('before-check', () => human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"hotfix1"')));

    const failure = (await adapter().promote(release).catch((error: unknown) => error)) as CanarybotError;

    expect(failure.code).toBe('GITOPS_REFUSED');
    expect(file('apps/reviews/values.yaml')).toContain('"hotfix1"');
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot:'))).toEqual([]);
  });

  it('revert: a tag a human writes inside the bot\'s lost race is seen on the re-read, not overwritten', async () => {
    const release = await preflighted();
    const promoted = await adapter().promote(release);
    gitlab.repositories.repository(42).interleave('before-check', () => human('apps/reviews/values.yaml', file('apps/reviews/values.yaml')!.replace('"0a1b2c3d"', '"hotfix1"')));

    const report = await adapter().revert({ ...release, gitops: { ...release.gitops!, commit: promoted.report.commit! } });

    expect(report.refused).toBe("apps/reviews/values.yaml image.tag is now hotfix1, not canarybot's 0a1b2c3d: changed after canarybot's commit, left as it is");
    expect(file('apps/reviews/values.yaml')).toContain('"hotfix1"');
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot:'))).toEqual(['canarybot: promote reviews to 0a1b2c3d']);
  });
});

describe('several clusters', () => {
  it('each cluster\'s promotion commits its own files; the file for every cluster is written once, with the last cluster\'s', async () => {
    // values.yaml has no cluster: (every cluster reads it); kustomization.yaml is eu's own.
    const spec: GitOpsSpec = { ...SPEC, files: [SPEC.files[0]!, { ...SPEC.files[1]!, cluster: 'eu' }] };
    const definition = reviewsDefinition({ target: reviewsTarget({ clusters: ['eu', 'us'] }), gitops: spec });
    const onCluster = async (cluster: string, clusterIndex: number): Promise<Release> => {
      const release = releaseRecord({ id: 'rel-9', definition, image: NEW, cluster, clusterIndex });
      const report = await adapter().preflight(release, OLD);
      return { ...release, gitops: { repository: PROJECT, branch: 'main', pins: report.pins!, warnings: [], commit: null, mergeRequest: null, revert: null, revertRefused: null, sync: null } };
    };

    const eu = await onCluster('eu', 0);
    await adapter().promote(eu);
    const afterEu = { values: file('apps/reviews/values.yaml'), kustomization: file('apps/reviews/kustomization.yaml') };
    const us = await onCluster('us', 1);
    await adapter().promote(us);

    expect(eu.gitops!.pins.map((pin) => pin.path)).toEqual(['apps/reviews/kustomization.yaml']);
    expect(afterEu).toEqual({ values: VALUES, kustomization: KUSTOMIZATION.replace('newTag: v1', 'newTag: 0a1b2c3d') });
    expect(us.gitops!.pins.map((pin) => pin.path)).toEqual(['apps/reviews/values.yaml']);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES.replace('"v1"', '"0a1b2c3d"'));
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot:'))).toEqual(['canarybot: promote reviews to 0a1b2c3d', 'canarybot: promote reviews to 0a1b2c3d']);
  });
});

describe('two replicas on one branch', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    redisServer = await startRedisServer();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await redisServer.stop();
  });

  it('are serialised by the Redis lock: no write loses a race', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/ratings/values.yaml': VALUES.replace(/reviews/g, 'ratings'), 'apps/reviews/kustomization.yaml': KUSTOMIZATION } }] });
    const reviews = await preflighted({ files: [SPEC.files[0]!] });
    const ratingsSpec = { ...SPEC, files: [{ path: 'apps/ratings/values.yaml', pin: SPEC.files[0]!.pin }] };
    const ratings0 = releaseRecord({ id: 'rel-8', service: 'ratings', definition: reviewsDefinition({ name: 'ratings', gitops: ratingsSpec }), image: 'registry.example.com/bookinfo/ratings:5e6f7a8b' });
    const prefix = `t${Date.now()}`;
    const lockA = redisRepositoryLock(redis, { prefix });
    const second = redis.duplicate();
    const lockB = redisRepositoryLock(second, { prefix });
    const ratingsReport = await adapter(lockB).preflight(ratings0, 'registry.example.com/bookinfo/ratings:v1');
    const ratings = { ...ratings0, gitops: { ...reviews.gitops!, pins: ratingsReport.pins! } };

    gitlab.clearCalls();
    await Promise.all([adapter(lockA).promote(reviews), adapter(lockB).promote(ratings)]).finally(() => second.disconnect());

    // One replica's read-commit runs whole before the other's begins: no read of one between the other's read and commit.
    const order = gitlab.calls.filter((call) => call.route === 'GET /projects/:id/repository/files/:file_path' || call.method === 'POST').map((call) => (call.method === 'POST' ? 'commit' : call.path.includes('ratings') ? 'ratings' : 'reviews'));
    const firstCommit = order.indexOf('commit');
    expect(new Set(order.slice(0, firstCommit)).size).toBe(1);
    expect(order.slice(firstCommit + 1).filter((entry) => entry !== 'commit').every((entry) => entry !== order[0])).toBe(true);
    expect(gitlab.callsTo('POST /projects/:id/repository/commits').map((call) => call.status)).toEqual([201, 201]);
    expect(commitsOnMain().slice(0, 2).sort()).toEqual(['canarybot: promote ratings to 5e6f7a8b', 'canarybot: promote reviews to 0a1b2c3d']);
  });
});

describe('rollback after the commit', () => {
  it('is one revert commit back to the pre-flight values, byte for byte', async () => {
    const release = await preflighted();
    const promoted = await adapter().promote(release);

    const report = await adapter().revert({ ...release, gitops: { ...release.gitops!, commit: promoted.report.commit! } });

    const head = gitlab.repositories.repository(42).resolve('main')!;
    expect(report).toEqual({ commit: { sha: head.id, url: `http://gitlab.test/${PROJECT}/-/commit/${head.id}` } });
    expect(head.message).toMatch(/^canarybot: roll back reviews to v1\n\n.*\n\nCanarybot-Release: rel-7\n$/s);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION);
  });

  it('never overwrites a value a human changed after canarybot\'s commit', async () => {
    const release = await preflighted();
    await adapter().promote(release);
    human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"v9-hotfix"'));
    gitlab.clearCalls();

    const report = await adapter().revert(release);

    expect(report.refused).toBe('apps/reviews/values.yaml image.tag is now v9-hotfix, not canarybot\'s 0a1b2c3d: changed after canarybot\'s commit, left as it is');
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
    expect(file('apps/reviews/values.yaml')).toContain('v9-hotfix');
  });
});

describe('rollback with the promotion\'s commit asked for but not recorded (via: commit; a crash or a lost answer)', () => {
  it('it landed: one revert commit, files byte for byte as before', async () => {
    const release = await preflighted();
    await adapter().promote(release);
    gitlab.clearCalls();

    const report = await adapter().revert({ ...release, gitops: { ...release.gitops!, commitAsked: true } });

    const head = gitlab.repositories.repository(42).resolve('main')!;
    expect(report).toEqual({ commit: { sha: head.id, url: `http://gitlab.test/${PROJECT}/-/commit/${head.id}` } });
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')).toHaveLength(1);
    expect(commitsOnMain().slice(0, 2)).toEqual(['canarybot: roll back reviews to v1', 'canarybot: promote reviews to 0a1b2c3d']);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION);
  });

  it.each([
    ['every pin still holds its pre-flight value', () => undefined, VALUES],
    ['a human changed a pin meanwhile (never overwritten, never refused: nothing of canarybot\'s there)', () => human('apps/reviews/values.yaml', VALUES.replace('"v1"', '"v9-hotfix"')), VALUES.replace('"v1"', '"v9-hotfix"')],
  ])('it never landed (%s): nothingToRevert, no write at all', async (_name, meanwhile, values) => {
    const release = await preflighted();
    meanwhile();
    gitlab.clearCalls();

    const report = await adapter().revert({ ...release, gitops: { ...release.gitops!, commitAsked: true } });

    expect(report).toEqual({ nothingToRevert: true });
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
    expect(file('apps/reviews/values.yaml')).toBe(values);
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION);
  });

  it('a recorded commit whose pins already hold their pre-flight values (a re-run after the revert landed): nothingToRevert, never the head reported as a revert', async () => {
    const release = await preflighted();
    const promoted = await adapter().promote(release);
    const rolledBack = { ...release, gitops: { ...release.gitops!, commit: promoted.report.commit! } };
    await adapter().revert(rolledBack);
    gitlab.clearCalls();

    const again = await adapter().revert(rolledBack);

    expect(again).toEqual({ nothingToRevert: true });
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
    expect(commitsOnMain().filter((title) => title.startsWith('canarybot: roll back'))).toHaveLength(1);
  });
});

describe('via: merge-request', () => {
  it('opens an MR from canarybot/<service>-<tag>, sets it to merge when the pipeline succeeds, and reports the merge commit once merged', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });

    const first = await adapter().promote(release);
    const waitingRelease = { ...release, gitops: { ...release.gitops!, mergeRequest: first.report.mergeRequest! } };
    const stillWaiting = await adapter().promote(waitingRelease);
    gitlab.repositories.finishPipeline(42, first.report.mergeRequest!.iid, 'success');
    const merged = await adapter().promote(waitingRelease);

    expect(first).toMatchObject({ done: false, report: { mergeRequest: { iid: 1 }, waiting: { kind: 'merge-request', sentence: 'Waiting for merge request !1 of platform/k8s-config to be merged (is set to merge when its pipeline succeeds).' } } });
    expect(stillWaiting.done).toBe(false);
    expect(gitlab.callsTo('POST /projects/:id/merge_requests')[0]!.body).toMatchObject({ source_branch: 'canarybot/reviews-0a1b2c3d', target_branch: 'main', title: 'canarybot: promote reviews to 0a1b2c3d' });
    expect(merged.done).toBe(true);
    expect(merged.report.commit!.sha).toBe(gitlab.repositories.repository(42).resolve('main')!.id);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES.replace('"v1"', '"0a1b2c3d"'));
  });

  it('a closed MR is refused, so the release rolls back', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });
    const first = await adapter().promote(release);
    gitlab.repositories.closeMergeRequest(42, first.report.mergeRequest!.iid);

    const failure = (await adapter().promote({ ...release, gitops: { ...release.gitops!, mergeRequest: first.report.mergeRequest! } }).catch((error: unknown) => error)) as CanarybotError;

    expect(failure.code).toBe('GITOPS_REFUSED');
    expect(failure.message).toBe('merge request !1 of platform/k8s-config was closed without being merged');
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
  });

  /** The MR's state as GitLab's API answers it. */
  async function mergeRequestState(iid: number): Promise<string> {
    const response = await fetch(`${gitlab.url}/api/v4/projects/42/merge_requests/${iid}`, { headers: { 'PRIVATE-TOKEN': gitlab.token } });
    return ((await response.json()) as { state: string }).state;
  }

  /** A release whose promotion opened its MR (set to merge when its pipeline succeeds), as the core records it. */
  async function waitingForMerge(): Promise<Release> {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });
    const opened = await adapter().promote(release);
    return { ...release, gitops: { ...release.gitops!, mergeRequest: opened.report.mergeRequest! } };
  }

  it('rolled back before the merge: the MR is closed (its auto-merge with it), a re-run finds it closed, and a pipeline succeeding later merges nothing', async () => {
    const release = await waitingForMerge();
    const mr = release.gitops!.mergeRequest!;
    const mainBefore = gitlab.repositories.repository(42).resolve('main')!.id;

    const closed = await adapter().revert(release);
    const again = await adapter().revert(release);
    gitlab.repositories.finishPipeline(42, mr.iid, 'success');

    expect(closed).toEqual({ mergeRequest: mr, closedMergeRequest: mr });
    expect(again).toEqual(closed);
    expect(gitlab.callsTo('PUT /projects/:id/merge_requests/:iid').map((call) => call.body)).toEqual([{ state_event: 'close' }, { state_event: 'close' }]);
    expect((await mergeRequestState(mr.iid))).toBe('closed');
    expect(gitlab.repositories.repository(42).resolve('main')!.id).toBe(mainBefore);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
  });

  it('merged before the rollback could close it: reported as the merge commit and reverted in one commit', async () => {
    const release = await waitingForMerge();
    const mr = release.gitops!.mergeRequest!;
    gitlab.repositories.finishPipeline(42, mr.iid, 'success');
    const mergeCommit = gitlab.repositories.repository(42).resolve('main')!.id;

    const report = await adapter().revert(release);

    const head = gitlab.repositories.repository(42).resolve('main')!;
    expect(report).toEqual({ mergedBeforeClose: { sha: mergeCommit, url: `${gitlab.url}/${PROJECT}/-/commit/${mergeCommit}` }, commit: { sha: head.id, url: `http://gitlab.test/${PROJECT}/-/commit/${head.id}` } });
    expect(head.message).toMatch(/^canarybot: roll back reviews to v1\n/);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION);
  });

  /** The project's merge requests as GitLab's API lists them (every state), newest first. */
  async function mergeRequests(): Promise<{ iid: number; state: string; source_branch: string; merge_when_pipeline_succeeds: boolean }[]> {
    const response = await fetch(`${gitlab.url}/api/v4/projects/42/merge_requests?state=all`, { headers: { 'PRIVATE-TOKEN': gitlab.token } });
    return (await response.json()) as { iid: number; state: string; source_branch: string; merge_when_pipeline_succeeds: boolean }[];
  }

  it('a re-run after GitLab opened the MR but before it was recorded (the merge call lost) takes that MR and sets it to merge when its pipeline succeeds: exactly one MR', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });
    gitlab.fail({ status: 500, match: /^PUT .*\/merge_requests\/\d+\/merge$/, times: 1 });
    const crashed = (await adapter().promote(release).catch((error: unknown) => error)) as CanarybotError;

    const rerun = await adapter().promote(release);
    gitlab.repositories.finishPipeline(42, 1, 'success');
    const merged = await adapter().promote(release);

    expect(crashed.code).toBe('GITLAB_UNAVAILABLE');
    expect(rerun).toMatchObject({ done: false, report: { mergeRequest: { iid: 1 }, waiting: { sentence: 'Waiting for merge request !1 of platform/k8s-config to be merged (is set to merge when its pipeline succeeds).' } } });
    expect(merged).toMatchObject({ done: true, report: { mergeRequest: { iid: 1 }, commit: { sha: gitlab.repositories.repository(42).resolve('main')!.id } } });
    expect((await mergeRequests()).map((mr) => [mr.iid, mr.state, mr.source_branch])).toEqual([[1, 'merged', 'canarybot/reviews-0a1b2c3d']]);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES.replace('"v1"', '"0a1b2c3d"'));
  });

  it('a re-run with the MR unrecorded that GitLab already merged reports its merge commit and opens none', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });
    await adapter().promote(release);
    gitlab.repositories.finishPipeline(42, 1, 'success');
    const mergeCommit = gitlab.repositories.repository(42).resolve('main')!.id;

    const rerun = await adapter().promote(release);
    const listed = await mergeRequests();
    // A later release of the same image (same branch name) does not take rel-7's merge as its own.
    const laterRelease = (await adapter().promote({ ...release, id: 'rel-8' }).catch(() => null)) as { done: boolean } | null;

    expect(rerun).toEqual({ done: true, report: { mergeRequest: { iid: 1, url: `http://gitlab.test/${PROJECT}/-/merge_requests/1` }, commit: { sha: mergeCommit, url: `${gitlab.url}/${PROJECT}/-/commit/${mergeCommit}` } } });
    expect(listed.map((mr) => [mr.iid, mr.state])).toEqual([[1, 'merged']]);
    expect(laterRelease?.done).not.toBe(true);
  });

  it('a re-run never takes a closed MR from its branch: it opens a new one', async () => {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION }, pipelines: true }] });
    const release = await preflighted({ via: 'merge-request' });
    await adapter().promote(release);
    gitlab.repositories.closeMergeRequest(42, 1);

    const rerun = await adapter().promote(release);

    expect(rerun).toMatchObject({ done: false, report: { mergeRequest: { iid: 2 } } });
    expect((await mergeRequests()).map((mr) => [mr.iid, mr.state, mr.merge_when_pipeline_succeeds])).toEqual([[2, 'opened', true], [1, 'closed', false]]);
  });

  it('rolled back with the MR opened but unrecorded: the rollback finds it from canarybot\'s branch and closes it; a pipeline succeeding later merges nothing', async () => {
    const release = await waitingForMerge();
    const unrecorded = { ...release, gitops: { ...release.gitops!, mergeRequest: null } };
    const mainBefore = gitlab.repositories.repository(42).resolve('main')!.id;

    const closed = await adapter().revert(unrecorded);
    gitlab.repositories.finishPipeline(42, 1, 'success');

    const mr = { iid: 1, url: `http://gitlab.test/${PROJECT}/-/merge_requests/1` };
    expect(closed).toEqual({ mergeRequest: mr, closedMergeRequest: mr });
    expect((await mergeRequestState(1))).toBe('closed');
    expect(gitlab.repositories.repository(42).resolve('main')!.id).toBe(mainBefore);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
  });

  it('rolled back with no MR recorded and none open or merged from canarybot\'s branch: nothing to close or revert, nothing written', async () => {
    const release = await preflighted({ via: 'merge-request' });
    gitlab.clearCalls();

    const report = await adapter().revert(release);

    expect(report).toEqual({ nothingToRevert: true });
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
  });

  it('GitLab failing the close: a 500 is transient (retried by the core), a 403 is a refusal; the MR stays open either way', async () => {
    const release = await waitingForMerge();
    const mr = release.gitops!.mergeRequest!;

    gitlab.fail({ status: 500, match: /^PUT .*\/merge_requests\/\d+$/, times: 1 });
    const outage = (await adapter().revert(release).catch((error: unknown) => error)) as CanarybotError;
    gitlab.fail({ status: 403, match: /^PUT .*\/merge_requests\/\d+$/, times: 1 });
    const refusal = (await adapter().revert(release).catch((error: unknown) => error)) as CanarybotError;

    expect(outage.code).toBe('GITLAB_UNAVAILABLE');
    expect(refusal.code).toBe('GITLAB_REFUSED');
    expect((await mergeRequestState(mr.iid))).toBe('opened');
  });
});

describe('a release train\'s write (the members sharing one config repository and branch)', () => {
  const RATINGS_VALUES = VALUES.replace(/reviews/g, 'ratings');
  const RATINGS_NEW = 'registry.example.com/bookinfo/ratings:5e6f7a8b';

  /** reviews (values.yaml, kustomization.yaml) and ratings (its values.yaml) after pre-flight, as the train records them. */
  async function trainWrite(via: 'commit' | 'merge-request' = 'commit'): Promise<TrainGitOpsRequest> {
    gitlab.seed({ projects: [{ id: 42, path: PROJECT, files: { 'apps/reviews/values.yaml': VALUES, 'apps/reviews/kustomization.yaml': KUSTOMIZATION, 'apps/ratings/values.yaml': RATINGS_VALUES, 'README.md': 'config\n' }, pipelines: via === 'merge-request' }] });
    const reviews = { ...(await preflighted({ via })), id: 'train-9-reviews' };
    const ratingsSpec: GitOpsSpec = { ...SPEC, via, files: [{ path: 'apps/ratings/values.yaml', pin: SPEC.files[0]!.pin }] };
    const ratings0 = releaseRecord({ id: 'train-9-ratings', service: 'ratings', definition: reviewsDefinition({ name: 'ratings', gitops: ratingsSpec }), image: RATINGS_NEW, mr: null });
    const report = await adapter().preflight(ratings0, 'registry.example.com/bookinfo/ratings:v1');
    const ratings = { ...ratings0, gitops: { ...reviews.gitops!, pins: report.pins! } };
    return { runId: 'train-9', train: 'bookinfo-lane', repository: PROJECT, branch: 'main', via, members: [reviews, ratings], mergeRequest: null, commit: null };
  }

  it('is one commit of every member\'s pins, naming each member and tag, with the member MRs and the train\'s trailers; a re-run finds it and writes nothing', async () => {
    const write = await trainWrite();
    gitlab.clearCalls();

    const first = await adapter().promoteTrain(write);
    const again = await adapter().promoteTrain(write);

    const head = gitlab.repositories.repository(42).resolve('main')!;
    expect(first).toEqual({ done: true, report: { commit: { sha: head.id, url: `http://gitlab.test/${PROJECT}/-/commit/${head.id}` } } });
    expect(again).toMatchObject({ done: true, report: { commit: { sha: head.id } } });
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')).toHaveLength(1);
    expect(head.message).toBe(
      'canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b\n\nMerge requests:\n- reviews http://gitlab.test/bookinfo/reviews/-/merge_requests/12\n\nCanarybot-Train: train-9\nCanarybot-Release: train-9-reviews\nCanarybot-Release: train-9-ratings\n',
    );
    expect(file('apps/reviews/values.yaml')).toBe(VALUES.replace('"v1"', '"0a1b2c3d"'));
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION.replace('newTag: v1', 'newTag: 0a1b2c3d'));
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES.replace('"v1"', '"5e6f7a8b"'));
  });

  it('retries a lost race ("incorrect old value provided") and commits exactly once', async () => {
    const write = await trainWrite();
    gitlab.repositories.repository(42).interleave('before-ref-update', () => human('README.md', 'docs\n'));
    gitlab.clearCalls();

    await adapter().promoteTrain(write);

    expect(gitlab.callsTo('POST /projects/:id/repository/commits').map((call) => call.status)).toEqual([400, 201]);
    expect(commitsOnMain().slice(0, 2)).toEqual(['canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b', 'hand edit']);
  });

  it('a pin someone else changed since pre-flight: the check and the commit refuse, and nothing is written', async () => {
    const write = await trainWrite();
    human('apps/ratings/values.yaml', RATINGS_VALUES.replace('"v1"', '"v1-hotfix"'));
    gitlab.clearCalls();

    const checked = (await adapter().checkTrain(write).catch((error: unknown) => error)) as CanarybotError;
    const committed = (await adapter().promoteTrain(write).catch((error: unknown) => error)) as CanarybotError;

    const sentence = `apps/ratings/values.yaml image.tag is now v1-hotfix in ${PROJECT}@main, not v1 as read at pre-flight: changed during the release, left as it is (nothing was promoted)`;
    expect([checked.code, checked.message]).toEqual(['GITOPS_REFUSED', sentence]);
    expect([committed.code, committed.message]).toEqual(['GITOPS_REFUSED', sentence]);
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
  });

  it('reverts in one commit back to the pre-flight values, and never over a human\'s later value', async () => {
    const write = await trainWrite();
    await adapter().promoteTrain(write);

    const reverted = await adapter().revertTrain(write);
    await adapter().promoteTrain({ ...write, runId: 'train-10' });
    human('apps/reviews/kustomization.yaml', KUSTOMIZATION.replace('newTag: v1', 'newTag: hotfix1'));
    const refused = await adapter().revertTrain(write);

    expect(reverted.commit?.sha).toBeDefined();
    expect(commitsOnMain().slice(0, 4)).toEqual(['hand edit', 'canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b', 'canarybot: roll back train bookinfo-lane: reviews to v1, ratings to v1', 'canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b']);
    expect(refused.refused).toBe(`apps/reviews/kustomization.yaml images[name=registry.example.com/bookinfo/reviews].newTag is now hotfix1, not canarybot's 0a1b2c3d: changed after canarybot's commit, left as it is`);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES.replace('"v1"', '"5e6f7a8b"'));
  });

  it('its commit asked for but not recorded (a crash or a lost answer): landed → one revert commit, files byte for byte as before; never landed → nothingToRevert, no write at all', async () => {
    const write = await trainWrite();
    gitlab.clearCalls();
    const unlanded = await adapter().revertTrain(write);
    const writesBefore = gitlab.calls.filter((call) => call.method !== 'GET');
    await adapter().promoteTrain(write);
    gitlab.clearCalls();

    const landed = await adapter().revertTrain(write);

    expect(unlanded).toEqual({ nothingToRevert: true });
    expect(writesBefore).toEqual([]);
    const head = gitlab.repositories.repository(42).resolve('main')!;
    expect(landed).toEqual({ commit: { sha: head.id, url: `http://gitlab.test/${PROJECT}/-/commit/${head.id}` } });
    expect(gitlab.callsTo('POST /projects/:id/repository/commits')).toHaveLength(1);
    expect(commitsOnMain().slice(0, 2)).toEqual(['canarybot: roll back train bookinfo-lane: reviews to v1, ratings to v1', 'canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b']);
    expect(file('apps/reviews/values.yaml')).toBe(VALUES);
    expect(file('apps/reviews/kustomization.yaml')).toBe(KUSTOMIZATION);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES);
  });

  it('via: merge-request: one MR for the train from canarybot/<run>, followed until merged', async () => {
    const write = await trainWrite('merge-request');

    const first = await adapter().promoteTrain(write);
    gitlab.repositories.finishPipeline(42, first.report.mergeRequest!.iid, 'success');
    const merged = await adapter().promoteTrain({ ...write, mergeRequest: first.report.mergeRequest! });

    expect(first).toMatchObject({ done: false, report: { mergeRequest: { iid: 1 }, waiting: { kind: 'merge-request' } } });
    expect(gitlab.callsTo('POST /projects/:id/merge_requests')).toHaveLength(1);
    expect(gitlab.callsTo('POST /projects/:id/merge_requests')[0]!.body).toMatchObject({ source_branch: 'canarybot/train-9', target_branch: 'main', title: 'canarybot: promote train bookinfo-lane: reviews to 0a1b2c3d, ratings to 5e6f7a8b' });
    expect(merged.done).toBe(true);
    expect(merged.report.commit!.sha).toBe(gitlab.repositories.repository(42).resolve('main')!.id);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES.replace('"v1"', '"5e6f7a8b"'));
  });

  it('via: merge-request, a re-run after GitLab opened the MR but before it was recorded takes that MR: exactly one MR for the run', async () => {
    const write = await trainWrite('merge-request');
    gitlab.fail({ status: 500, match: /^PUT .*\/merge_requests\/\d+\/merge$/, times: 1 });
    const crashed = (await adapter().promoteTrain(write).catch((error: unknown) => error)) as CanarybotError;

    const rerun = await adapter().promoteTrain(write);
    gitlab.repositories.finishPipeline(42, 1, 'success');
    const merged = await adapter().promoteTrain(write);

    expect(crashed.code).toBe('GITLAB_UNAVAILABLE');
    expect(rerun).toMatchObject({ done: false, report: { mergeRequest: { iid: 1 }, waiting: { kind: 'merge-request' } } });
    expect(merged).toMatchObject({ done: true, report: { mergeRequest: { iid: 1 }, commit: { sha: gitlab.repositories.repository(42).resolve('main')!.id } } });
    expect(gitlab.callsTo('POST /projects/:id/merge_requests').map((call) => call.status)).toEqual([201]);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES.replace('"v1"', '"5e6f7a8b"'));
  });

  it('via: merge-request, rolled back with the MR opened but unrecorded: the rollback finds it from canarybot/<run> and closes it', async () => {
    const write = await trainWrite('merge-request');
    const opened = await adapter().promoteTrain(write);
    const mainBefore = gitlab.repositories.repository(42).resolve('main')!.id;

    const closed = await adapter().revertTrain(write);
    gitlab.repositories.finishPipeline(42, opened.report.mergeRequest!.iid, 'success');

    expect(closed).toEqual({ mergeRequest: opened.report.mergeRequest, closedMergeRequest: opened.report.mergeRequest });
    expect(gitlab.callsTo('PUT /projects/:id/merge_requests/:iid').map((call) => call.body)).toEqual([{ state_event: 'close' }]);
    expect(gitlab.repositories.repository(42).resolve('main')!.id).toBe(mainBefore);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES);
  });

  it('via: merge-request, rolled back before the merge: the MR is closed unmerged (its auto-merge with it), nothing committed to main; merged meanwhile: reverted', async () => {
    const write = await trainWrite('merge-request');
    const opened = await adapter().promoteTrain(write);
    const mainBefore = gitlab.repositories.repository(42).resolve('main')!.id;

    const closed = await adapter().revertTrain({ ...write, mergeRequest: opened.report.mergeRequest! });
    gitlab.repositories.finishPipeline(42, opened.report.mergeRequest!.iid, 'success');

    expect(closed).toEqual({ mergeRequest: opened.report.mergeRequest, closedMergeRequest: opened.report.mergeRequest });
    expect(gitlab.callsTo('PUT /projects/:id/merge_requests/:iid')[0]!.body).toMatchObject({ state_event: 'close' });
    expect(gitlab.repositories.repository(42).resolve('main')!.id).toBe(mainBefore);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES);

    const second = await adapter().promoteTrain({ ...write, runId: 'train-11' });
    gitlab.repositories.finishPipeline(42, second.report.mergeRequest!.iid, 'success');
    const reverted = await adapter().revertTrain({ ...write, runId: 'train-11', mergeRequest: second.report.mergeRequest! });

    expect(reverted.commit?.sha).toBe(gitlab.repositories.repository(42).resolve('main')!.id);
    expect(file('apps/ratings/values.yaml')).toBe(RATINGS_VALUES);
    expect(commitsOnMain()[0]).toBe('canarybot: roll back train bookinfo-lane: reviews to v1, ratings to v1');
  });
});
