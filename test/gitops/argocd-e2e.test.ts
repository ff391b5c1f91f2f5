// End to end beside a self-healing Argo CD: the real core, executor and adapters (mesh, GitOps,
// sync controller) against the Kubernetes and GitLab API test servers, with the simulated Argo CD
// controller reconciling the config repository on refresh and on an interval.
//   - with spec.gitops: the weights survive reconciles during the canary (ignored via
//     managedFieldsManagers: canarybot), promotion commits to Git, Argo CD applies it, and the
//     release stays promoted across the next reconciles; canarybot never writes the stable image;
//   - the negative control: the same release without spec.gitops is reverted by the controller;
//   - an Application without the weights ignored is refused at pre-flight with the YAML to add.
// Invariant: at the end Git's pinned value equals the stable image, and no image ever reached the
// stable Deployment from canarybot.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { Release } from '../../src/core/release.js';
import { SimulatedArgoCd } from '../../src/sim/gitops-controller.js';
import { deployment, NS, virtualService } from '../mesh/fixtures.js';
import { startHarness, type MeshHarness } from '../mesh/harness.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';
import { runRelease, sleep } from './release-loop.js';

const OLD = 'registry.example.com/bookinfo/reviews:v1';
const NEW = 'registry.example.com/bookinfo/reviews:0a1b2c3d';
const IGNORE = [
  { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', managedFieldsManagers: ['canarybot'] },
  { group: 'apps', kind: 'Deployment', name: 'reviews-canary', jsonPointers: ['/spec/replicas', '/spec/template/spec/containers'] },
];
const GITOPS: GitOpsSpec = {
  repository: 'platform/k8s-config',
  branch: 'main',
  files: [{ path: 'apps/reviews/kustomization.yaml', pin: { kind: 'kustomizeImage', image: 'registry.example.com/bookinfo/reviews' } }],
  via: 'commit',
  onDrift: 'refuse',
  sync: { controller: 'argocd', application: 'reviews', namespace: 'argocd', timeoutMs: 30_000 },
  mergeTimeoutMs: 30_000,
};

let mesh: MeshHarness;
let gitlab: GitLabApiServer;
let argo: SimulatedArgoCd;

function seedApplication(ignoreDifferences: unknown[]): void {
  mesh.server.seed({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'reviews', namespace: 'argocd' }, spec: { project: 'default', source: { repoURL: 'http://gitlab.test/platform/k8s-config.git', path: 'apps/reviews', targetRevision: 'main' }, ignoreDifferences, syncPolicy: { automated: { selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] } } } as never);
}

beforeEach(async () => {
  mesh = await startHarness();
  gitlab = await startGitLabApiServer();
  const manifests = [virtualService(), deployment('reviews-primary', 'stable', 3, OLD), deployment('reviews-canary', 'canary', 0, OLD)].map((object) => stringify(object)).join('---\n');
  gitlab.seed({ projects: [{ id: 42, path: 'platform/k8s-config', files: { 'apps/reviews/manifests.yaml': manifests, 'apps/reviews/kustomization.yaml': 'resources: [manifests.yaml]\nimages:\n  - name: registry.example.com/bookinfo/reviews\n    newTag: v1   # canarybot writes this\n' } }] });
  seedApplication(IGNORE);
  argo = new SimulatedArgoCd({ kube: mesh.server, gitlab, application: { namespace: 'argocd', name: 'reviews' }, repository: { projectId: 42, branch: 'main', path: 'apps/reviews' }, intervalMs: 150 });
  argo.start();
});
afterEach(async () => {
  argo.stop();
  await gitlab.close();
  await mesh.close();
});

function release(gitops: GitOpsSpec | undefined): Release {
  const definition = reviewsDefinition({ target: reviewsTarget({ namespace: NS, settleMs: 0 }), strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 400 }] }, ...(gitops ? { gitops } : {}) });
  return releaseRecord({ id: 'rel-e2e', definition, namespace: NS, image: NEW, phase: 'created' });
}

const run = (start: Release, onState?: (release: Release) => Promise<void>, budgetMs?: number) => runRelease(mesh, gitlab, start, onState, budgetMs);

const stableImage = () => ((mesh.server.object('Deployment', NS, 'reviews-primary')!.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers.find((c) => c.name === 'reviews')!.image);
const weights = () => ((mesh.server.object('VirtualService', NS, 'reviews')!.spec as { http: { route: { weight?: number }[] }[] }).http[0]!.route.map((route) => route.weight ?? 0));
const gitTag = () => /newTag: (\S+)/.exec(gitlab.repositories.repository(42).resolve('main')!.files.get('apps/reviews/kustomization.yaml')!)![1];
const canarybotWritesToStable = () => mesh.server.writes().filter((write) => write.path.endsWith('/deployments/reviews-primary') && write.query.includes('fieldManager=canarybot'));

describe('beside a self-healing Argo CD', () => {
  it('with spec.gitops: weights survive the reconciles, Git is written first, Argo CD applies it, and it stays promoted', async () => {
    let weightsDuringCanary: number[] = [];
    const end = await run(release(GITOPS), async (r) => {
      if (r.state === 'progressing' && r.stepIndex === 1) {
        await sleep(400); // at least two reconciles at 20 %
        weightsDuringCanary = weights();
      }
    });
    await sleep(500); // more reconciles after the end

    expect(end.state).toBe('succeeded');
    expect(weightsDuringCanary).toEqual([80, 20]);
    expect(gitTag()).toBe('0a1b2c3d');
    expect(stableImage()).toBe(NEW);
    expect(canarybotWritesToStable()).toEqual([]);
    expect(argo.heals.filter((heal) => heal.startsWith('VirtualService'))).toEqual([]);
    expect(gitlab.repositories.repository(42).resolve('main')!.message).toMatch(/^canarybot: promote reviews to 0a1b2c3d\n[\s\S]*Canarybot-Release: rel-e2e\n$/);
    expect(end.gitops?.commit?.sha).toBe(gitlab.repositories.repository(42).resolve('main')!.id);
    expect(mesh.server.events(NS).map((event) => event.reason)).toEqual(expect.arrayContaining(['TrafficShifted', 'Promoted', 'ScaledDown']));
  }, 60_000);

  it('the negative control: the same release without spec.gitops is reverted by the controller', async () => {
    // canarybot sets the new image on stable, Argo CD puts Git's back: the promotion never holds.
    const end = await run(release(undefined), undefined, 5_000);
    for (let i = 0; i < 40 && stableImage() !== OLD; i += 1) await sleep(50);

    const wroteNew = canarybotWritesToStable().some((write) => JSON.stringify(write.body).includes(NEW));
    expect(end.state).toBe('promoting');
    expect(wroteNew).toBe(true);
    expect(stableImage()).toBe(OLD);
    expect(gitTag()).toBe('v1');
    expect(argo.heals).toContain('Deployment/reviews-primary /spec/template/spec/containers/0/image');
  }, 60_000);

  it('refuses an Application that does not ignore the weights, with the YAML to add and nothing written', async () => {
    seedApplication([IGNORE[1]]);
    mesh.server.clearRecord();

    const end = await run(release(GITOPS));

    expect(end.state).toBe('failed');
    expect(end.reason).toContain('Application argocd/reviews would revert canarybot\'s changes: ignoreDifferences does not cover VirtualService reviews (/spec/http)');
    expect(end.reason).toContain('managedFieldsManagers:\n        - canarybot');
    expect(end.reason).toContain('RespectIgnoreDifferences=true');
    expect(mesh.server.writes().filter((write) => write.query.includes('fieldManager=canarybot') && !write.path.endsWith('/events'))).toEqual([]);
    expect(gitlab.calls.filter((call) => call.method === 'POST')).toEqual([]);
  }, 60_000);
});
