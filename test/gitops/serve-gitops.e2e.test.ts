// spec.gitops end to end through the real `canarybot serve` (child process, webhook intake, BullMQ
// on a real redis-server), against the Kubernetes and GitLab API test servers, each service beside
// its own simulated self-healing Argo CD. One serve, two services, releases in sequence:
//   reviews (via: commit; values.yaml helmValues, kustomization.yaml kustomizeImage, deployment.yaml manifest)
//     1. two concurrent commits land while the bot commits (a human edit of values.yaml before
//        GitLab's check, then a README commit before its ref update): the bot re-reads and commits
//        EXACTLY ONCE, keeping the human's edit; every file differs from its parent only in the tag,
//        byte for byte (comments, key order, quoting, blank lines, other documents); Argo CD applies
//        it, the weights survive its reconciles, and it stays promoted;
//     2. an alert while the bot waits for Argo CD after its commit: exactly one revert commit, Git
//        back byte for byte, and the stable Deployment never ran the new image;
//     3. drift (Git holds a tag that is neither the stable one nor the new one) with onDrift: refuse:
//        failed with a sentence naming file, value and image, ZERO writes to Git or Kubernetes;
//     4. a human changes the pinned tag after the bot's commit, then an alert: no revert is written,
//        the human's value stays, the release fails loudly and says so.
//   reviews-b (via: merge-request, a config project running MR pipelines)
//     5. the bot opens the MR from canarybot/reviews-b-<tag>, sets it to merge when its pipeline
//        succeeds, waits (wait kind merge-request, linked), and after the merge Argo CD syncs it;
//     6. `/canary abort` while the bot waits for its MR: the MR is closed (its auto-merge with it), so
//        its pipeline succeeding later merges nothing; Git and the stable Deployment keep the old tag.
// Invariant checked after each: canarybot never wrote an image on a stable Deployment (Argo CD owns
// it), and the stable image equals the tag in Git once the release has settled.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SimulatedArgoCd } from '../../src/sim/gitops-controller.js';
import { deployment, destinationRule, namespace, service, virtualService } from '../mesh/fixtures.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { ALICE, commentHook, IMAGE, PROJECT, pipelineHook, progressNotes, ROOT, startWorld, waitUntil, webhookHeaders, type World, reviewsDefinition } from '../e2e/world.js';

const SECRET = 'gitops-webhook-secret';
const ALERT_SECRET = 'gitops-alert-secret';
const CONFIG = { id: 42, path: 'platform/k8s-config' };
const OLD_TAG = 'v1';
const SHA = {
  race: 'ab12cd34e5f60718293a4b5c6d7e8f9012345678',
  revert: 'bc23de45f60718293a4b5c6d7e8f901234567890',
  drift: 'cd34ef56a60718293a4b5c6d7e8f901234567890',
  human: 'de45fa67b60718293a4b5c6d7e8f901234567890',
  mr: 'ef56ab78c60718293a4b5c6d7e8f901234567890',
  mrAbort: 'fa67bc89d60718293a4b5c6d7e8f901234567890',
};
const tag = (sha: string) => sha.slice(0, 8);
const IGNORE = [
  { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', managedFieldsManagers: ['canarybot'] },
  { group: 'apps', kind: 'Deployment', name: 'reviews-canary', jsonPointers: ['/spec/replicas', '/spec/template/spec/containers'] },
];

// ---- the config repository, written by hand: comments, quoting, blank lines, flow style, other documents

const valuesYaml = (t: string) => `# Helm values for reviews (owned by the platform team)
replicaCount: 2

image:
  repository: registry.example.com/bookinfo/reviews
  pullPolicy: IfNotPresent   # keep
  tag: '${t}'   # canarybot writes this

resources: {}
`;

const kustomizationYaml = (t: string, ns = 'bookinfo') => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${ns}
resources:
  - deployment.yaml   # the pinned manifest
  - mesh.yaml
images:
  # the tag canarybot promotes
  - name: ${IMAGE}
    newTag: ${t}
  - name: proxy
    newTag: "1"
`;

const deploymentYaml = (t: string) => `# reviews: the stable Deployment (canarybot pins its image)
apiVersion: v1
kind: ConfigMap
metadata:
  name: reviews-settings
  namespace: bookinfo
data:
  LOG_LEVEL: 'info'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-primary
  namespace: bookinfo
spec:
  replicas: 2
  selector:
    matchLabels: { app: reviews, track: stable }
  template:
    metadata:
      labels: { app: reviews, track: stable }
    spec:
      containers:
        - name: reviews
          image: "${IMAGE}:${t}"   # written by canarybot

        - name: sidecar
          image: proxy:1
---
# the canary, scaled by canarybot (ignored by Argo CD)
${stringify(deployment('reviews-canary', 'canary', 0, `${IMAGE}:${OLD_TAG}`))}`;

function inNamespace<T extends { metadata: Record<string, unknown> }>(object: T, ns: string): T {
  return { ...object, metadata: { ...object.metadata, namespace: ns } };
}

const meshYaml = (ns: string) => [virtualService(), destinationRule()].map((object) => stringify(inNamespace(object, ns))).join('---\n');

const reviewsBYaml = (ns: string) => [deployment('reviews-primary', 'stable', 2, `${IMAGE}:${OLD_TAG}`), deployment('reviews-canary', 'canary', 0, `${IMAGE}:${OLD_TAG}`)].map((object) => stringify(inNamespace(object, ns))).join('---\n');

const FILES: Record<string, string> = {
  'README.md': '# platform/k8s-config\n',
  'apps/reviews/values.yaml': valuesYaml(OLD_TAG),
  'apps/reviews/kustomization.yaml': kustomizationYaml(OLD_TAG),
  'apps/reviews/deployment.yaml': deploymentYaml(OLD_TAG),
  'apps/reviews/mesh.yaml': meshYaml('bookinfo'),
  'apps/reviews-b/kustomization.yaml': kustomizationYaml(OLD_TAG, 'bookinfo-b').replace('  - deployment.yaml   # the pinned manifest\n', '  - deployments.yaml\n'),
  'apps/reviews-b/deployments.yaml': reviewsBYaml('bookinfo-b'),
  'apps/reviews-b/mesh.yaml': meshYaml('bookinfo-b'),
};

function definitionYaml(options: { name: string; ns: string; branch: string; gitops: string }): string {
  return reviewsDefinition({
    name: options.name,
    namespace: options.ns,
    branch: options.branch,
    settle: '0s',
    steps: ['setWeight: 40', 'pause: { duration: 1s }', 'setWeight: 100'],
    spec: `  alerts:
    - alertmanager: { matchers: ['service="${options.name}"'] }
  gitops:
    repository: ${CONFIG.path}
    branch: main
${options.gitops}`,
  });
}

const REVIEWS_GITOPS = `    files:
      - path: apps/reviews/values.yaml
        helmValues: image.tag
      - path: apps/reviews/kustomization.yaml
        kustomizeImage: ${IMAGE}
      - path: apps/reviews/deployment.yaml
        manifest: { kind: Deployment, name: reviews-primary, container: reviews }
    sync:
      argocd: { application: reviews, namespace: argocd }
      timeout: 2m
`;

const REVIEWS_B_GITOPS = `    files:
      - path: apps/reviews-b/kustomization.yaml
        kustomizeImage: ${IMAGE}
    via: merge-request
    sync:
      argocd: { application: reviews-b, namespace: argocd }
      timeout: 2m
`;

let redis: RedisServer;
let world: World;
let serve: ServeHarness;
let argo: SimulatedArgoCd;
let argoB: SimulatedArgoCd;

function seedApplication(name: string, path: string): void {
  world.kube.seed({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec: { project: 'default', source: { repoURL: `http://gitlab.test/${CONFIG.path}.git`, path, targetRevision: 'main' }, ignoreDifferences: IGNORE, syncPolicy: { automated: { selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] } } } as never);
}

beforeAll(async () => {
  [redis, world] = await Promise.all([startRedisServer(), startWorld()]);
  const ns = 'bookinfo-b';
  world.kube.seed({ ...namespace(), metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } } as never);
  for (const object of [virtualService(), destinationRule(), service(), deployment('reviews-primary', 'stable', 2), deployment('reviews-canary', 'canary', 0)]) world.kube.seed(inNamespace(object, ns) as never);
  world.gitlab.seed({ projects: [{ id: CONFIG.id, path: CONFIG.path, defaultBranch: 'main', files: FILES, pipelines: true }] });
  seedApplication('reviews', 'apps/reviews');
  seedApplication('reviews-b', 'apps/reviews-b');
  argo = new SimulatedArgoCd({ kube: world.kube, gitlab: world.gitlab, application: { namespace: 'argocd', name: 'reviews' }, repository: { projectId: CONFIG.id, branch: 'main', path: 'apps/reviews' }, intervalMs: 200 });
  argoB = new SimulatedArgoCd({ kube: world.kube, gitlab: world.gitlab, application: { namespace: 'argocd', name: 'reviews-b' }, repository: { projectId: CONFIG.id, branch: 'main', path: 'apps/reviews-b' }, intervalMs: 200 });
  argo.start();
  argoB.start();
  rmSync(join(world.pipelinesDir, 'reviews.yaml'));
  writeFileSync(join(world.pipelinesDir, 'reviews-gitops.yaml'), definitionYaml({ name: 'reviews', ns: 'bookinfo', branch: 'master', gitops: REVIEWS_GITOPS }));
  writeFileSync(join(world.pipelinesDir, 'reviews-b-gitops.yaml'), definitionYaml({ name: 'reviews-b', ns, branch: 'release-b', gitops: REVIEWS_B_GITOPS }));
  world.kube.clearRecord();
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      ALERT_WEBHOOK_SECRET: ALERT_SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PUBLIC_URL: 'https://canarybot.example.com',
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  argo?.stop();
  argoB?.stop();
  await serve?.stop();
  await world?.close();
  await redis?.stop();
});

// ---- helpers

interface ReleasePage { id: string; state: string; phase: string; image: string; reason: string | null; wait: { kind: string; sentence: string; link: string | null } | null }

const repo = () => world.gitlab.repositories.repository(CONFIG.id);
const head = () => repo().resolve('main')!;
const fileAt = (path: string) => head().files.get(path);
const parentOf = (commit: { parentIds: string[] }) => repo().commits.get(commit.parentIds[0]!)!;
/** First lines of the commits on main, newest first, down to (not including) `since`. */
function titlesSince(since: string): string[] {
  const out: string[] = [];
  for (let commit = head(); commit.id !== since; commit = parentOf(commit)) out.push(commit.message.split('\n')[0]!);
  return out;
}
const human = (message: string, path: string, content: string) => repo().commit({ branch: 'main', message, authorName: 'Alice', actions: [{ action: 'update', filePath: path, content }] });

function stableImage(ns = 'bookinfo'): string {
  const object = world.kube.object('Deployment', ns, 'reviews-primary') as unknown as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
  return object.spec.template.spec.containers.find((c) => c.name === 'reviews')!.image;
}

/** Every image canarybot itself wrote on a stable Deployment (none: the controller owns it). */
const canarybotStableImageWrites = () =>
  world.kube.writes().filter((write) => write.path.endsWith('/deployments/reviews-primary') && write.query.includes('fieldManager=canarybot') && JSON.stringify(write.body).includes('image'));

async function deliver(sha: string, iid: number, ref = 'master'): Promise<void> {
  const hook = pipelineHook(sha, iid);
  hook.object_attributes.ref = ref;
  const response = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Pipeline Hook'), body: JSON.stringify(hook) });
  expect(response.status).toBe(202);
}

async function alert(service: string): Promise<void> {
  const body = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as { alerts: { startsAt: string; labels: Record<string, string> }[]; commonLabels: Record<string, string> };
  body.alerts[0]!.startsAt = new Date().toISOString();
  body.alerts[0]!.labels.service = service;
  body.commonLabels.service = service;
  const response = await fetch(`${serve.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` }, body: JSON.stringify(body) });
  expect(response.status).toBe(202);
}

async function releaseOf(image: string): Promise<ReleasePage | null> {
  const headers = { authorization: `Bearer ${world.gitlab.token}` };
  const list = (await (await fetch(`${serve.url}/api/releases`, { headers })).json()) as { releases: { id: string; image: string }[] };
  const found = list.releases.find((release) => release.image === image);
  if (!found) return null;
  return (await (await fetch(`${serve.url}/api/releases/${found.id}`, { headers })).json()) as ReleasePage;
}

const TERMINAL = ['succeeded', 'rolled-back', 'failed', 'aborted', 'superseded'];
const ended = (image: string) => waitUntil(`the release of ${image} to end`, async () => {
  const release = await releaseOf(image);
  return release && TERMINAL.includes(release.state) ? release : null;
}, 60_000);
const waitingFor = (image: string, kind: string) => waitUntil(`the release of ${image} to wait for ${kind}`, async () => {
  const release = await releaseOf(image);
  if (release && TERMINAL.includes(release.state)) throw new Error(`ended ${release.state}: ${release.reason}`);
  return release?.wait?.kind === kind ? release : null;
}, 60_000);
async function mergeRequest(iid: number): Promise<{ state: string; merge_when_pipeline_succeeds: boolean; merge_commit_sha: string | null; source_branch: string; target_branch: string }> {
  const response = await fetch(`${world.gitlab.url}/api/v4/projects/${CONFIG.id}/merge_requests/${iid}`, { headers: { 'private-token': world.gitlab.token } });
  return (await response.json()) as never;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the scenarios

describe('spec.gitops through canarybot serve and the queue', () => {
  it('commits exactly once through two concurrent commits, changing only the tag byte for byte; Argo CD applies it and it stays promoted', async () => {
    const image = `${IMAGE}:${tag(SHA.race)}`;
    const start = head().id;
    const before = { values: fileAt('apps/reviews/values.yaml')!, kustomization: fileAt('apps/reviews/kustomization.yaml')!, deployment: fileAt('apps/reviews/deployment.yaml')! };
    // A human edits another line of the pinned values file between the bot's read and GitLab's check
    // ("has changed since you started editing it"), then a README commit moves the branch between
    // GitLab's check and its ref update ("incorrect old value provided").
    repo().interleave('before-check', () => {
      human('scale reviews to 3', 'apps/reviews/values.yaml', before.values.replace('replicaCount: 2', 'replicaCount: 3'));
      repo().interleave('before-ref-update', () => human('docs', 'README.md', '# platform/k8s-config\n\nOwned by the platform team.\n'));
    });

    await deliver(SHA.race, 1);
    const done = await ended(image);
    await sleep(600); // Argo CD reconciles again (interval 200 ms)

    const promotion = head();
    expect(done.state, done.reason ?? '').toBe('succeeded');
    expect(titlesSince(start)).toEqual([`canarybot: promote reviews to ${tag(SHA.race)}`, 'docs', 'scale reviews to 3']);
    expect(promotion.message).toMatch(new RegExp(`\\nCanarybot-Release: ${done.id}\\n$`));
    // Byte for byte: only the tag changed in each file, the human's edit kept.
    expect(fileAt('apps/reviews/values.yaml')).toBe(valuesYaml(tag(SHA.race)).replace('replicaCount: 2', 'replicaCount: 3'));
    expect(fileAt('apps/reviews/kustomization.yaml')).toBe(kustomizationYaml(tag(SHA.race)));
    expect(fileAt('apps/reviews/deployment.yaml')).toBe(deploymentYaml(tag(SHA.race)));
    expect(before.deployment).toBe(deploymentYaml(OLD_TAG));
    const parent = parentOf(promotion);
    const touched = [...promotion.files.keys()].filter((path) => promotion.files.get(path) !== parent.files.get(path));
    expect(touched.sort()).toEqual(['apps/reviews/deployment.yaml', 'apps/reviews/kustomization.yaml', 'apps/reviews/values.yaml']);
    // Argo CD applied the commit; the weights were never healed; canarybot never wrote the stable image.
    expect(argo.applied).toContain(promotion.id);
    expect(stableImage()).toBe(image);
    expect(argo.heals.filter((heal) => heal.startsWith('VirtualService'))).toEqual([]);
    expect(canarybotStableImageWrites()).toEqual([]);
  }, 120_000);

  it('an alert after the promotion commit: exactly one revert commit, Git back byte for byte, the new image never on stable', async () => {
    const image = `${IMAGE}:${tag(SHA.revert)}`;
    const stable = stableImage();
    const start = head();
    argo.stop(); // Argo CD is slow: the release waits for it after its commit

    await deliver(SHA.revert, 2);
    const waiting = await waitingFor(image, 'sync');
    const promotedTitles = titlesSince(start.id);
    await alert('reviews');
    await waitUntil('the revert commit', () => head().message.startsWith('canarybot: roll back'), 60_000);
    argo.start();
    const done = await ended(image);
    await sleep(600);

    expect(waiting.wait!.sentence).toContain('Waiting for Application argocd/reviews to apply');
    expect(promotedTitles).toEqual([`canarybot: promote reviews to ${tag(SHA.revert)}`]);
    expect(done.state, done.reason ?? '').toBe('rolled-back');
    expect(done.reason).toContain('ReviewsHighErrorRate');
    expect(titlesSince(start.id)).toEqual([`canarybot: roll back reviews to ${tag(SHA.race)}`, `canarybot: promote reviews to ${tag(SHA.revert)}`]);
    for (const path of ['apps/reviews/values.yaml', 'apps/reviews/kustomization.yaml', 'apps/reviews/deployment.yaml']) expect(fileAt(path), path).toBe(start.files.get(path));
    expect(stableImage()).toBe(stable);
    expect(argo.applied.at(-1)).toBe(head().id);
    expect(canarybotStableImageWrites()).toEqual([]);
  }, 120_000);

  it('drift with onDrift: refuse — failed with a sentence, zero writes to Git and Kubernetes', async () => {
    const image = `${IMAGE}:${tag(SHA.drift)}`;
    const stable = stableImage();
    const values = fileAt('apps/reviews/values.yaml')!;
    human('pin an old tag by hand', 'apps/reviews/values.yaml', values.replace(`tag: '${tag(SHA.race)}'`, "tag: 'v0'"));
    const start = head().id;
    world.kube.clearRecord();
    world.gitlab.clearCalls();

    await deliver(SHA.drift, 3);
    const done = await ended(image);

    expect(done.state).toBe('failed');
    expect(done.reason).toContain(`Git and the cluster disagree (onDrift: refuse, nothing was written): apps/reviews/values.yaml image.tag is v0 in ${CONFIG.path}@main, but Deployment reviews-primary on default runs ${stable}`);
    expect(head().id).toBe(start);
    const note = await waitUntil('the progress note to say why', () => progressNotes(world, 3).find((candidate) => candidate.body.includes('Git and the cluster disagree')));
    expect(note.body).toContain('apps/reviews/values.yaml');
    const writes = world.gitlab.calls.filter((call) => call.method !== 'GET');
    expect(writes.filter((call) => call.path.startsWith(`/projects/${CONFIG.path}/`) || call.path.startsWith(`/projects/${CONFIG.id}/`))).toEqual([]);
    expect(writes.length).toBeGreaterThan(0); // the note and the commit status on the app's project: the record is live
    expect(world.kube.writes()).toEqual([]);
    human('back to the running tag', 'apps/reviews/values.yaml', values);
  }, 120_000);

  it('a human changes the pinned tag after the bot\'s commit: no revert overwrites it, the release fails and says so', async () => {
    const image = `${IMAGE}:${tag(SHA.human)}`;
    argo.stop();

    await deliver(SHA.human, 4);
    await waitingFor(image, 'sync');
    const promotion = head();
    human('hotfix: pin reviews to hotfix1', 'apps/reviews/kustomization.yaml', fileAt('apps/reviews/kustomization.yaml')!.replace(`newTag: ${tag(SHA.human)}`, 'newTag: hotfix1'));
    const humans = head();
    await alert('reviews');
    const done = await ended(image);
    argo.start();
    await waitUntil('Argo CD to apply the human\'s commit', () => argo.applied.at(-1) === humans.id);

    expect(promotion.message.split('\n')[0]).toBe(`canarybot: promote reviews to ${tag(SHA.human)}`);
    expect(done.state).toBe('failed');
    expect(done.reason).toContain(`Git was NOT rolled back: apps/reviews/kustomization.yaml images[name=${IMAGE}].newTag is now hotfix1, not canarybot's ${tag(SHA.human)}: changed after canarybot's commit, left as it is`);
    expect(head().id).toBe(humans.id);
    expect(fileAt('apps/reviews/kustomization.yaml')).toContain('newTag: hotfix1');
    await waitUntil('the stable Deployment to run the human\'s tag', () => stableImage() === `${IMAGE}:hotfix1`);
    expect(canarybotStableImageWrites()).toEqual([]);
  }, 120_000);

  it('via: merge-request — opens the MR, waits for it to merge, then Argo CD syncs the merge commit', async () => {
    const image = `${IMAGE}:${tag(SHA.mr)}`;
    const before = fileAt('apps/reviews-b/kustomization.yaml')!;

    await deliver(SHA.mr, 5, 'release-b');
    const waiting = await waitingFor(image, 'merge-request');
    const iid = Number(/merge_requests\/(\d+)$/.exec(waiting.wait!.link ?? '')?.[1]);
    const whileWaiting = { git: fileAt('apps/reviews-b/kustomization.yaml'), stable: stableImage('bookinfo-b'), mr: await mergeRequest(iid) };
    world.gitlab.repositories.finishPipeline(CONFIG.id, iid, 'success');
    const done = await ended(image);
    const mr = await mergeRequest(iid);

    expect(waiting.wait!.link).toBe(`http://gitlab.test/${CONFIG.path}/-/merge_requests/${iid}`);
    expect(waiting.wait!.sentence).toContain(`Waiting for merge request !${iid} of ${CONFIG.path} to be merged (is set to merge when its pipeline succeeds)`);
    expect(whileWaiting).toMatchObject({ git: before, stable: `${IMAGE}:${OLD_TAG}`, mr: { state: 'opened', merge_when_pipeline_succeeds: true, source_branch: `canarybot/reviews-b-${tag(SHA.mr)}`, target_branch: 'main' } });
    expect(done.state, done.reason ?? '').toBe('succeeded');
    expect(mr.state).toBe('merged');
    expect(head().id).toBe(mr.merge_commit_sha);
    expect(fileAt('apps/reviews-b/kustomization.yaml')).toBe(before.replace(`newTag: ${OLD_TAG}`, `newTag: ${tag(SHA.mr)}`));
    expect(argoB.applied).toContain(mr.merge_commit_sha);
    expect(stableImage('bookinfo-b')).toBe(image);
    expect(canarybotStableImageWrites()).toEqual([]);
  }, 120_000);

  it('via: merge-request — /canary abort while the MR waits closes the MR: never merged, even after its pipeline succeeds, and stable keeps its image', async () => {
    const image = `${IMAGE}:${tag(SHA.mrAbort)}`;
    const stable = stableImage('bookinfo-b');
    const start = head().id;
    const before = fileAt('apps/reviews-b/kustomization.yaml')!;
    world.gitlab.seed({ mergeRequests: [{ projectId: PROJECT, iid: 6, authorId: ALICE.id, title: 'Reviews change 6', targetBranch: 'release-b' }] });

    await deliver(SHA.mrAbort, 6, 'release-b');
    const waiting = await waitingFor(image, 'merge-request');
    const iid = Number(/merge_requests\/(\d+)$/.exec(waiting.wait!.link ?? '')?.[1]);
    const whileWaiting = await mergeRequest(iid);
    const abort = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Note Hook'), body: JSON.stringify(commentHook(world, 6, '/canary abort', ROOT)) });
    const done = await ended(image);
    const afterRollback = await mergeRequest(iid);
    world.gitlab.repositories.finishPipeline(CONFIG.id, iid, 'success');
    await sleep(600); // Argo CD reconciles again (interval 200 ms)
    const afterPipeline = await mergeRequest(iid);

    expect(abort.status).toBe(202);
    expect(whileWaiting).toMatchObject({ state: 'opened', merge_when_pipeline_succeeds: true });
    expect(done.state, done.reason ?? '').toBe('aborted');
    expect(afterRollback).toMatchObject({ state: 'closed', merge_when_pipeline_succeeds: false, merge_commit_sha: null });
    expect(afterPipeline).toMatchObject({ state: 'closed', merge_commit_sha: null });
    expect(head().id).toBe(start);
    expect(fileAt('apps/reviews-b/kustomization.yaml')).toBe(before);
    expect(stableImage('bookinfo-b')).toBe(stable);
    expect(stable).not.toBe(image);
    expect(canarybotStableImageWrites()).toEqual([]);
    const note = await waitUntil('the progress note to say the MR was closed', () => progressNotes(world, 6).find((candidate) => candidate.body.includes(`!${iid}`) && candidate.body.includes('closed (the release rolled back)')));
    expect(note.body).toContain(`merge request [!${iid}](http://gitlab.test/${CONFIG.path}/-/merge_requests/${iid}) closed (the release rolled back)`);
  }, 120_000);
});

