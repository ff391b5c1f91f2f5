// A release train whose members have spec.gitops, through the whole bot (createBot with the real
// train runner, GitOps adapter and Argo CD sync controller) against the Kubernetes and GitLab API
// test servers, each member beside its own simulated self-healing Argo CD. Bookinfo's chain
// productpage → reviews → ratings: productpage and reviews share the config repository
// platform/bookinfo-config, ratings has platform/ratings-config.
//   1. promotion: exactly one commit in the shared repository holding both members' pins (the first
//      attempt loses a race to a human's edit of another line and is retried, the edit kept), one
//      commit in ratings' repository; every Argo CD applies them and the stable images stay on the
//      new tags (without the commits Argo CD would heal them back); canarybot never wrote a stable image;
//   2. a human changes a pin during the canary: the train is refused before anything is written;
//   pre-flight: Git and the cluster disagree on one member (onDrift: refuse): stopped, nothing written;
//   3. aborted while Argo CD has not applied the commits yet: one revert commit per repository, Git
//      back byte for byte, the stable images back on the old tags.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config.js';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TRAIN_NAMESPACE, TRAIN_SERVICES, trainImage, trainKubeSeed, trainMemberDefinition } from '../../src/demo/bookinfo-train.js';
import { renderMemberNote } from '../../src/gitlab/train-notes.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { SimulatedArgoCd } from '../../src/sim/gitops-controller.js';
import { waitUntil } from '../e2e/world.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

type Service = (typeof TRAIN_SERVICES)[number];
const TRAIN = 'bookinfo-gitops';
const SHARED = { id: 61, path: 'platform/bookinfo-config' };
const RATINGS = { id: 62, path: 'platform/ratings-config' };
const REPO_OF: Record<Service, { id: number; path: string }> = { productpage: SHARED, reviews: SHARED, ratings: RATINGS };
const RM = { username: 'rm', channel: 'api' as const };

// ---- the config repositories: each member's stable Deployment, its tag pinned in kustomization.yaml

const kustomizationYaml = (service: Service, tag: string) => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  # the tag canarybot promotes
  - name: registry.example.com/bookinfo/${service}
    newTag: ${tag}
`;

const stableDeploymentYaml = (service: Service) => stringify(trainKubeSeed().find((object) => object.kind === 'Deployment' && object.metadata.name === `${service}-primary`));

function filesOf(services: Service[]): Record<string, string> {
  const files: Record<string, string> = { 'README.md': '# config\n' };
  for (const service of services) {
    files[`apps/${service}/kustomization.yaml`] = kustomizationYaml(service, 'v1');
    files[`apps/${service}/deployment.yaml`] = stableDeploymentYaml(service);
  }
  return files;
}

function memberYaml(service: Service): string {
  return `${trainMemberDefinition(service)}  gitops:
    repository: ${REPO_OF[service].path}
    branch: main
    files:
      - path: apps/${service}/kustomization.yaml
        kustomizeImage: registry.example.com/bookinfo/${service}
    sync:
      argocd: { application: ${service}, namespace: argocd }
      timeout: 1m
`;
}

const TRAIN_YAML = `apiVersion: canarybot/v1
kind: ReleaseTrain
metadata:
  name: ${TRAIN}
spec:
  members: [${TRAIN_SERVICES.join(', ')}]
  lane: { header: x-canary-lane, value: ${TRAIN}, baggage: true }
  entry:
    member: productpage
    cohort:
      - headers: { x-user-group: { exact: beta } }
  steps:
    - analysis: { count: 2 }
  analysis:
    interval: 1s
  promote: ordered
`;

let kube: KubeApiServer;
let gitlab: GitLabApiServer;
let redis: RedisServer;
let bot: Bot;
let dir: string;
const argo = {} as Record<Service, SimulatedArgoCd>;

beforeAll(async () => {
  [kube, gitlab, redis] = await Promise.all([KubeApiServer.start({ rolloutDelayMs: 100, tls: false }), startGitLabApiServer({ botUser: { id: 99, username: 'canarybot', name: 'canarybot' } }), startRedisServer()]);
  for (const object of trainKubeSeed()) kube.seed(object);
  gitlab.seed({
    projects: [
      ...TRAIN_SERVICES.map((service, i) => ({ id: 21 + i, path: `bookinfo/${service}`, defaultBranch: 'main' })),
      { id: SHARED.id, path: SHARED.path, defaultBranch: 'main', files: filesOf(['productpage', 'reviews']) },
      { id: RATINGS.id, path: RATINGS.path, defaultBranch: 'main', files: filesOf(['ratings']) },
    ],
  });
  for (const service of TRAIN_SERVICES) {
    const ignore = [
      { group: 'networking.istio.io', kind: 'VirtualService', name: service, managedFieldsManagers: ['canarybot'] },
      { group: 'apps', kind: 'Deployment', name: `${service}-canary`, jsonPointers: ['/spec/replicas', '/spec/template/spec/containers'] },
    ];
    const repository = REPO_OF[service];
    kube.seed({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: service, namespace: 'argocd' }, spec: { project: 'default', source: { repoURL: `http://gitlab.test/${repository.path}.git`, path: `apps/${service}`, targetRevision: 'main' }, ignoreDifferences: ignore, syncPolicy: { automated: { selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] } } } as never);
    argo[service] = new SimulatedArgoCd({ kube, gitlab, application: { namespace: 'argocd', name: service }, repository: { projectId: repository.id, branch: 'main', path: `apps/${service}` }, intervalMs: 200 });
    argo[service].start();
  }
  dir = mkdtempSync(join(tmpdir(), 'canarybot-train-gitops-'));
  for (const service of TRAIN_SERVICES) writeFileSync(join(dir, `${service}.yaml`), memberYaml(service));
  writeFileSync(join(dir, 'train.yaml'), TRAIN_YAML);
  const config = loadConfig({
    REDIS_URL: redis.url,
    GITLAB_URL: gitlab.url,
    GITLAB_TOKEN: gitlab.token,
    GITLAB_WEBHOOK_SECRET: 'train-gitops-secret',
    KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]),
    PIPELINES_DIR: dir,
    PUBLIC_URL: 'https://canarybot.example.com',
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, { metricProvider: healthy, alertGate: quietAlertmanager, writebackPollMs: 50 });
  await bot.start();
}, 60_000);

afterAll(async () => {
  for (const controller of Object.values(argo)) controller.stop();
  await bot?.close();
  await Promise.all([redis?.stop(), gitlab?.close(), kube?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- helpers

const repo = (project: { id: number }) => gitlab.repositories.repository(project.id);
const head = (project: { id: number }) => repo(project).resolve('main')!;
const fileAt = (project: { id: number }, path: string) => head(project).files.get(path);
const parentOf = (project: { id: number }, commit: { parentIds: string[] }) => repo(project).commits.get(commit.parentIds[0]!)!;
/** The commits on main, newest first, down to (not including) `since`. */
function commitsSince(project: { id: number }, since: string): Array<{ id: string; message: string; files: Map<string, string>; parentIds: string[] }> {
  const out = [];
  for (let commit = head(project); commit.id !== since; commit = parentOf(project, commit)) out.push(commit);
  return out;
}
const title = (commit: { message: string }) => commit.message.split('\n')[0];
const human = (project: { id: number }, message: string, path: string, content: string) => repo(project).commit({ branch: 'main', message, authorName: 'Alice', actions: [{ action: 'update', filePath: path, content }] });

function stableImage(service: Service): string {
  const object = kube.object('Deployment', TRAIN_NAMESPACE, `${service}-primary`) as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
  return object.spec.template.spec.containers[0]!.image;
}

/** Every image canarybot itself wrote on a stable Deployment (none: Argo CD owns them). */
const canarybotStableImageWrites = () =>
  kube.writes().filter((write) => /\/deployments\/[a-z]+-primary$/.test(write.path) && write.query.includes('fieldManager=canarybot') && JSON.stringify(write.body).includes('image'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startTrain(tag: string): Promise<TrainRun> {
  const started = await bot.trains.start(TRAIN, Object.fromEntries(TRAIN_SERVICES.map((service) => [service, { image: trainImage(service, tag) }])), RM);
  if (!started.ok) throw new Error(started.message);
  return started.run;
}

describe('a release train with spec.gitops members', () => {
  it('promotes in one commit per config repository (the shared one holding both pins, its lost race retried); Argo CD applies them and the stable images stay promoted', async () => {
    const start = { shared: head(SHARED).id, ratings: head(RATINGS).id };
    // A human edits another line of reviews' pinned file between the bot's read and GitLab's check:
    // GitLab answers "The file has changed since you started editing it" and the bot reads again.
    repo(SHARED).interleave('before-check', () => {
      human(SHARED, 'reviews: say who reviews the tag', 'apps/reviews/kustomization.yaml', kustomizationYaml('reviews', 'v1').replace('promotes', 'promotes (reviewed by Alice)'));
    });
    kube.clearRecord();
    gitlab.clearCalls();

    const run = await startTrain('v2');
    const ended = await bot.trains.whenEnded(run.id);
    await sleep(800); // every Argo CD reconciles again (interval 200 ms): nothing heals back

    expect(ended.state, ended.reason ?? '').toBe('succeeded');
    // Argo CD self-heals every stable Deployment to what Git holds: the new tags stay only because Git has them.
    for (const service of TRAIN_SERVICES) expect(stableImage(service), service).toBe(trainImage(service, 'v2'));
    expect(canarybotStableImageWrites()).toEqual([]);
    const shared = commitsSince(SHARED, start.shared);
    expect(shared.map(title)).toEqual([`canarybot: promote train ${TRAIN}: productpage to v2, reviews to v2`, 'reviews: say who reviews the tag']);
    const commitPosts = gitlab.calls.filter((call) => call.method === 'POST' && [SHARED.id, SHARED.path].some((project) => call.path === `/projects/${project}/repository/commits`)).map((call) => call.status);
    expect(commitPosts).toEqual([400, 201]);
    const promotion = shared[0]!;
    expect(promotion.message).toContain(`\n\nCanarybot-Train: ${run.id}\nCanarybot-Release: ${run.id}-productpage\nCanarybot-Release: ${run.id}-reviews\n`);
    const touched = [...promotion.files.keys()].filter((path) => promotion.files.get(path) !== parentOf(SHARED, promotion).files.get(path));
    expect(touched.sort()).toEqual(['apps/productpage/kustomization.yaml', 'apps/reviews/kustomization.yaml']);
    expect(fileAt(SHARED, 'apps/productpage/kustomization.yaml')).toBe(kustomizationYaml('productpage', 'v2'));
    expect(fileAt(SHARED, 'apps/reviews/kustomization.yaml')).toBe(kustomizationYaml('reviews', 'v2').replace('promotes', 'promotes (reviewed by Alice)'));
    const ratings = commitsSince(RATINGS, start.ratings);
    expect(ratings.map(title)).toEqual([`canarybot: promote train ${TRAIN}: ratings to v2`]);
    expect(fileAt(RATINGS, 'apps/ratings/kustomization.yaml')).toBe(kustomizationYaml('ratings', 'v2'));

    expect(argo.productpage.applied).toContain(promotion.id);
    expect(argo.reviews.applied).toContain(promotion.id);
    expect(argo.ratings.applied).toContain(ratings[0]!.id);

    expect(ended.gitops?.map((write) => [write.key, write.members, write.commit?.sha])).toEqual([
      [`${SHARED.path}@main`, ['productpage', 'reviews'], promotion.id],
      [`${RATINGS.path}@main`, ['ratings'], ratings[0]!.id],
    ]);
    const api = await bot.app.inject({ method: 'GET', url: `/api/trains/${run.id}`, headers: { authorization: `Bearer ${gitlab.token}` } });
    expect((api.json() as { gitops: Array<{ commit: { sha: string } }> }).gitops.map((write) => write.commit.sha)).toEqual([promotion.id, ratings[0]!.id]);
    const markdown = await bot.app.inject({ method: 'GET', url: `/api/trains/${run.id}?format=markdown`, headers: { authorization: `Bearer ${gitlab.token}` } });
    expect(markdown.body).toContain(`[${promotion.id.slice(0, 8)}](http://gitlab.test/${SHARED.path}/-/commit/${promotion.id})`);
    expect(renderMemberNote(ended, ended.members[1]!)).toContain(`Git: [${promotion.id.slice(0, 8)}](http://gitlab.test/${SHARED.path}/-/commit/${promotion.id})`);
  }, 50_000);

  it('a human changes a pin during the canary: the train is refused before anything is written, with the sentence', async () => {
    const before = { shared: head(SHARED).id, ratings: head(RATINGS).id };
    const stable = TRAIN_SERVICES.map(stableImage);

    const run = await startTrain('v3');
    await waitUntil('the lane to open', async () => (await bot.trains.find(run.id))?.state === 'progressing', 20_000);
    human(SHARED, 'hotfix: pin reviews to hotfix1', 'apps/reviews/kustomization.yaml', fileAt(SHARED, 'apps/reviews/kustomization.yaml')!.replace('newTag: v2', 'newTag: hotfix1'));
    const humans = head(SHARED).id;
    const ended = await bot.trains.whenEnded(run.id);

    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toBe(
      `the Git write of the promotion was refused, nothing was written: apps/reviews/kustomization.yaml images[name=registry.example.com/bookinfo/reviews].newTag is now hotfix1 in ${SHARED.path}@main, not v2 as read at pre-flight: changed during the release, left as it is (nothing was promoted)`,
    );
    expect(commitsSince(SHARED, before.shared).map((commit) => commit.id)).toEqual([humans]);
    expect(head(RATINGS).id).toBe(before.ratings);
    expect(ended.gitops?.every((write) => write.commit === null)).toBe(true);
    await waitUntil('Argo CD to apply the human\'s tag', () => stableImage('reviews') === trainImage('reviews', 'hotfix1'));
    expect([stableImage('productpage'), stableImage('ratings')]).toEqual([stable[0], stable[2]]);
    human(SHARED, 'back to v2', 'apps/reviews/kustomization.yaml', fileAt(SHARED, 'apps/reviews/kustomization.yaml')!.replace('newTag: hotfix1', 'newTag: v2'));
    await waitUntil('Argo CD to apply v2 again', () => stableImage('reviews') === trainImage('reviews', 'v2'));
  }, 50_000);

  it('pre-flight: Git and the cluster disagree on a member (onDrift: refuse): the train stops with the sentence before anything is written', async () => {
    argo.ratings.stop(); // so the tag pinned by hand is not applied: Git and the cluster disagree
    const pinned = fileAt(RATINGS, 'apps/ratings/kustomization.yaml')!;
    human(RATINGS, 'pin an old tag by hand', 'apps/ratings/kustomization.yaml', pinned.replace('newTag: v2', 'newTag: v0'));
    const before = { shared: head(SHARED).id, ratings: head(RATINGS).id };
    kube.clearRecord();
    gitlab.clearCalls();

    const run = await startTrain('v5');
    const ended = await bot.trains.whenEnded(run.id);

    expect(ended.state).toBe('failed');
    expect(ended.reason).toContain(
      `Git and the cluster disagree (onDrift: refuse, nothing was written): apps/ratings/kustomization.yaml images[name=registry.example.com/bookinfo/ratings].newTag is v0 in ${RATINGS.path}@main, but Deployment ratings-primary on default runs ${trainImage('ratings', 'v2')}`,
    );
    expect([head(SHARED).id, head(RATINGS).id]).toEqual([before.shared, before.ratings]);
    expect(gitlab.calls.filter((call) => call.method !== 'GET')).toEqual([]);
    expect(kube.writes().filter((write) => !write.path.includes('/events'))).toEqual([]);
    human(RATINGS, 'back to v2', 'apps/ratings/kustomization.yaml', pinned);
    argo.ratings.start();
  }, 30_000);

  it('aborted after the commits landed while Argo CD has not applied them: one revert commit per repository, Git back byte for byte, the stable images on the old tags', async () => {
    const before = { shared: head(SHARED), ratings: head(RATINGS) };
    for (const service of TRAIN_SERVICES) argo[service].stop(); // slow controllers: the train waits for ratings' sync

    const run = await startTrain('v4');
    await waitUntil('the commits', () => commitsSince(RATINGS, before.ratings.id).length === 1 && commitsSince(SHARED, before.shared.id).length === 1, 30_000);
    const answer = await bot.trains.command(run.id, { type: 'command', verb: 'abort', actor: RM, reason: 'stop' });
    await waitUntil('the revert commits', () => commitsSince(RATINGS, before.ratings.id).length === 2 && commitsSince(SHARED, before.shared.id).length === 2, 30_000);
    for (const service of TRAIN_SERVICES) argo[service].start();
    const ended = await bot.trains.whenEnded(run.id);

    expect(answer.ok).toBe(true);
    expect(ended.state, ended.reason ?? '').toBe('aborted');
    expect(commitsSince(SHARED, before.shared.id).map(title)).toEqual([`canarybot: roll back train ${TRAIN}: productpage to v2, reviews to v2`, `canarybot: promote train ${TRAIN}: productpage to v4, reviews to v4`]);
    expect(commitsSince(RATINGS, before.ratings.id).map(title)).toEqual([`canarybot: roll back train ${TRAIN}: ratings to v2`, `canarybot: promote train ${TRAIN}: ratings to v4`]);
    for (const [project, path] of [[SHARED, 'apps/productpage/kustomization.yaml'], [SHARED, 'apps/reviews/kustomization.yaml'], [RATINGS, 'apps/ratings/kustomization.yaml']] as const) {
      expect(fileAt(project, path), path).toBe((project === SHARED ? before.shared : before.ratings).files.get(path));
    }
    for (const service of TRAIN_SERVICES) expect(stableImage(service), service).toBe(trainImage(service, 'v2'));
    expect(ended.gitops?.map((write) => write.revert?.sha)).toEqual([head(SHARED).id, head(RATINGS).id]);
    expect(canarybotStableImageWrites()).toEqual([]);
  }, 50_000);
});
