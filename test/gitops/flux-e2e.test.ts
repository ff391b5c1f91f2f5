// End to end beside a simulated Flux (src/sim/flux-controller.ts): the real core, executor and
// adapters against the Kubernetes and GitLab API test servers, Flux reconciling every 150 ms with
// drift correction, its GitRepository polling only every 10 minutes (so only canarybot's
// reconcile request on it brings the commit in, as `flux reconcile --with-source` does).
//   - Kustomization: with the VirtualService and the canary Deployment annotated
//     kustomize.toolkit.fluxcd.io/ssa: IfNotPresent in Git, the weights survive the canary, the
//     promotion is a commit Flux applies (lastAppliedRevision main@sha1:<commit>), and it stays
//     promoted; without the annotation on the VirtualService Flux puts Git's weights back
//     mid-canary (the negative control), and pre-flight refuses with the annotation to add.
//   - HelmRelease: the chart's values.yaml is edited, Flux upgrades the release to chart
//     1.4.0+<commit>; driftDetection ignoring canarybot's fields keeps the weights, without the
//     VirtualService's ignore rule they are reverted; reconcileStrategy ChartVersion is refused (Flux would never
//     apply the commit — shown on the simulator too).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { Release } from '../../src/core/release.js';
import { SimulatedFlux } from '../../src/sim/flux-controller.js';
import { deployment, NS, virtualService } from '../mesh/fixtures.js';
import { startHarness, type MeshHarness } from '../mesh/harness.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';
import { runRelease, sleep } from './release-loop.js';
import { reviewsChart } from './reviews-chart.js';

const OLD = 'registry.example.com/bookinfo/reviews:v1';
const NEW = 'registry.example.com/bookinfo/reviews:0a1b2c3d';
const IF_NOT_PRESENT = { 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' };
const FLUX = 'flux-system';

let mesh: MeshHarness;
let gitlab: GitLabApiServer;
let flux: SimulatedFlux;

function annotated<T extends { metadata: object }>(object: T, annotations: Record<string, string> | undefined): T {
  return annotations ? { ...object, metadata: { ...object.metadata, annotations } } : object;
}

/** The objects in Git and live: the VirtualService and canary Deployment annotated for Flux or not. */
function seedObjects(vs: Record<string, string> | undefined, canary = vs): unknown[] {
  const objects = [annotated(virtualService(), vs), deployment('reviews-primary', 'stable', 3, OLD), annotated(deployment('reviews-canary', 'canary', 0, OLD), canary)];
  for (const object of objects) mesh.server.seed(object as never);
  return objects;
}

function seedFlux(objects: Record<string, unknown>[]): void {
  mesh.server.seed({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'k8s-config', namespace: FLUX }, spec: { interval: '10m', url: 'http://gitlab.test/platform/k8s-config.git', ref: { branch: 'main' } } } as never);
  for (const object of objects) mesh.server.seed(object as never);
  flux = new SimulatedFlux({ kube: mesh.server, gitlab });
  flux.start();
}

function kustomization(): Record<string, unknown> {
  return { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'apps', namespace: FLUX }, spec: { interval: '150ms', path: './apps/reviews', prune: true, sourceRef: { kind: 'GitRepository', name: 'k8s-config' } } };
}

function helmRelease(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'reviews', namespace: FLUX },
    spec: { interval: '150ms', releaseName: 'reviews', targetNamespace: NS, chart: { spec: { chart: './apps/reviews', sourceRef: { kind: 'GitRepository', name: 'k8s-config' }, reconcileStrategy: 'Revision' } }, ...spec },
  };
}

const CANARYBOT_FIELDS = [
  { paths: ['/spec/http'], target: { kind: 'VirtualService', name: 'reviews' } },
  { paths: ['/spec/replicas', '/spec/template/spec/containers'], target: { kind: 'Deployment', name: 'reviews-canary' } },
];

beforeEach(async () => {
  mesh = await startHarness();
  gitlab = await startGitLabApiServer();
});
afterEach(async () => {
  flux?.stop();
  await gitlab.close();
  await mesh.close();
});

function gitops(files: GitOpsSpec['files'], sync: { kind: 'Kustomization' | 'HelmRelease'; name: string }): GitOpsSpec {
  return { repository: 'platform/k8s-config', branch: 'main', files, via: 'commit', onDrift: 'refuse', sync: { controller: 'flux', ...sync, namespace: FLUX, timeoutMs: 30_000 }, mergeTimeoutMs: 30_000 };
}
const KUSTOMIZE = gitops([{ path: 'apps/reviews/kustomization.yaml', pin: { kind: 'kustomizeImage', image: 'registry.example.com/bookinfo/reviews' } }], { kind: 'Kustomization', name: 'apps' });
const HELM = gitops([{ path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } }], { kind: 'HelmRelease', name: 'reviews' });

function release(spec: GitOpsSpec | undefined, pauseMs = 400): Release {
  const definition = reviewsDefinition({ target: reviewsTarget({ namespace: NS, settleMs: 0 }), strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: pauseMs }] }, ...(spec ? { gitops: spec } : {}) });
  return releaseRecord({ id: 'rel-flux', definition, namespace: NS, image: NEW, phase: 'created' });
}

const stableImage = () => ((mesh.server.object('Deployment', NS, 'reviews-primary')!.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers.find((c) => c.name === 'reviews')!.image);
const weights = () => ((mesh.server.object('VirtualService', NS, 'reviews')!.spec as { http: { route: { weight?: number }[] }[] }).http[0]!.route.map((route) => route.weight ?? 0));
const head = () => gitlab.repositories.repository(42).resolve('main')!;
const fluxStatus = (kind: string, name: string) => mesh.server.object(kind, FLUX, name)!.status as Record<string, unknown>;
const canarybotWritesToStable = () => mesh.server.writes().filter((write) => write.path.endsWith('/deployments/reviews-primary') && write.query.includes('fieldManager=canarybot'));
/** The weights a few reconciles into the pause at 20 %. */
async function weightsDuringCanary(r: Release, seen: { weights: number[] }): Promise<void> {
  if (r.state === 'progressing' && r.stepIndex === 1) {
    await sleep(500);
    seen.weights = weights();
  }
}

describe('beside Flux: a Kustomization', () => {
  function seedKustomize(vs: Record<string, string> | undefined, canary = vs): void {
    const manifests = seedObjects(vs, canary).map((object) => stringify(object)).join('---\n');
    gitlab.seed({ projects: [{ id: 42, path: 'platform/k8s-config', files: { 'apps/reviews/manifests.yaml': manifests, 'apps/reviews/kustomization.yaml': 'resources: [manifests.yaml]\nimages:\n  - name: registry.example.com/bookinfo/reviews\n    newTag: v1   # canarybot writes this\n' } }] });
    seedFlux([kustomization()]);
  }

  it('with ssa: IfNotPresent on canarybot\'s objects: weights survive, Flux applies the commit it asked for, and it stays promoted', async () => {
    seedKustomize(IF_NOT_PRESENT);
    const seen = { weights: [] as number[] };
    const end = await runRelease(mesh, gitlab, release(KUSTOMIZE), (r) => weightsDuringCanary(r, seen));
    await sleep(500);

    expect(end.state).toBe('succeeded');
    expect(seen.weights).toEqual([80, 20]);
    expect(head().message).toMatch(/^canarybot: promote reviews to 0a1b2c3d\n/);
    expect(fluxStatus('Kustomization', 'apps')).toMatchObject({ lastAppliedRevision: `main@sha1:${head().id}`, lastAttemptedRevision: `main@sha1:${head().id}` });
    expect(fluxStatus('Kustomization', 'apps').conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `Applied revision: main@sha1:${head().id}` })]);
    expect(fluxStatus('GitRepository', 'k8s-config')).toMatchObject({ artifact: { revision: `main@sha1:${head().id}` } });
    // The GitRepository polls every 10 minutes: it got the commit because canarybot asked it to.
    expect(mesh.server.writes().filter((write) => write.path.endsWith('/gitrepositories/k8s-config') && write.query.includes('fieldManager=canarybot')).length).toBeGreaterThan(0);
    expect(stableImage()).toBe(NEW);
    const managers = (mesh.server.object('Deployment', NS, 'reviews-primary')!.metadata.managedFields as { manager: string; operation: string }[]).map((entry) => `${entry.manager}/${entry.operation}`);
    expect(managers).toContain('kustomize-controller/Apply');
    expect(canarybotWritesToStable()).toEqual([]);
    expect(flux.heals.filter((heal) => heal.includes('VirtualService/reviews'))).toEqual([]);
  }, 60_000);

  it('the negative control: without the annotation on the VirtualService, Flux puts Git\'s weights back mid-canary', async () => {
    seedKustomize(undefined, IF_NOT_PRESENT);
    const seen = { weights: [] as number[] };
    await runRelease(mesh, gitlab, release(undefined, 1000), (r) => weightsDuringCanary(r, seen), 5_000);

    expect(flux.heals).toContain('Kustomization/apps VirtualService/reviews /spec/http');
    expect(seen.weights).toEqual([100]);
  }, 60_000);

  it('without the annotation, pre-flight refuses with the annotation to add and writes nothing', async () => {
    seedKustomize(undefined);
    await sleep(100);
    mesh.server.clearRecord();
    const end = await runRelease(mesh, gitlab, release(KUSTOMIZE));

    expect(end.state).toBe('failed');
    expect(end.reason).toContain('Kustomization flux-system/apps would revert canarybot\'s changes: Flux would revert canarybot\'s changes to VirtualService reviews and Deployment reviews-canary');
    expect(end.reason).toContain('kustomize.toolkit.fluxcd.io/ssa: IfNotPresent');
    expect(mesh.server.writes().filter((write) => write.query.includes('fieldManager=canarybot') && !write.path.endsWith('/events'))).toEqual([]);
    expect(gitlab.calls.filter((call) => call.method === 'POST')).toEqual([]);
  }, 60_000);
});

describe('beside Flux: a HelmRelease with its chart in the config repository', () => {
  function seedHelm(spec: Record<string, unknown>): void {
    seedObjects(undefined);
    gitlab.seed({ projects: [{ id: 42, path: 'platform/k8s-config', files: reviewsChart('apps/reviews') }] });
    seedFlux([helmRelease(spec)]);
  }

  it('driftDetection ignoring canarybot\'s fields: weights survive, the values edit becomes chart 1.4.0+<commit>, and it stays promoted', async () => {
    seedHelm({ driftDetection: { mode: 'enabled', ignore: CANARYBOT_FIELDS } });
    const seen = { weights: [] as number[] };
    const end = await runRelease(mesh, gitlab, release(HELM), (r) => weightsDuringCanary(r, seen));
    await sleep(500);

    expect(end.state).toBe('succeeded');
    expect(seen.weights).toEqual([80, 20]);
    const status = fluxStatus('HelmRelease', 'reviews') as { history: { chartVersion: string; status: string; version: number }[]; lastAttemptedRevision: string; conditions: { type: string; status: string; reason: string }[] };
    expect(status.history[0]).toMatchObject({ chartVersion: `1.4.0+${head().id.slice(0, 12)}`, status: 'deployed', version: 2 });
    expect(status.history[1]).toMatchObject({ status: 'superseded', version: 1 });
    expect(status.lastAttemptedRevision).toBe(`1.4.0+${head().id.slice(0, 12)}`);
    expect(status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'UpgradeSucceeded' })]));
    expect(stableImage()).toBe(NEW);
    expect(canarybotWritesToStable()).toEqual([]);
  }, 60_000);

  it('the negative control: drift correction without the VirtualService ignore rule reverts the weights mid-canary', async () => {
    seedHelm({ driftDetection: { mode: 'enabled', ignore: CANARYBOT_FIELDS.slice(1) } });
    const seen = { weights: [] as number[] };
    await runRelease(mesh, gitlab, release(undefined, 1000), (r) => weightsDuringCanary(r, seen), 5_000);

    expect(flux.heals).toContain('HelmRelease/reviews VirtualService/reviews /spec/http');
    expect(seen.weights).toEqual([100]);
  }, 60_000);

  it('reconcileStrategy ChartVersion never applies a values commit; pre-flight refuses it with the YAML to add', async () => {
    seedHelm({ chart: { spec: { chart: './apps/reviews', sourceRef: { kind: 'GitRepository', name: 'k8s-config' } } } });
    await sleep(100);
    mesh.server.clearRecord();
    const end = await runRelease(mesh, gitlab, release(HELM));

    expect(end.state).toBe('failed');
    expect(end.reason).toContain('HelmRelease flux-system/reviews: its chart is built from GitRepository k8s-config with reconcileStrategy ChartVersion');
    expect(end.reason).toContain('reconcileStrategy: Revision');
    expect(gitlab.calls.filter((call) => call.method === 'POST')).toEqual([]);

    // What it prevents: a commit to values.yaml, a reconcile of the source and the release — and the old image stays.
    const repository = gitlab.repositories.repository(42);
    repository.commit({ branch: 'main', message: 'edit values', actions: [{ action: 'update', filePath: 'apps/reviews/values.yaml', content: repository.resolve('main')!.files.get('apps/reviews/values.yaml')!.replace('tag: v1', 'tag: 0a1b2c3d') }] });
    for (const kind of ['GitRepository', 'HelmRelease']) mesh.server.mutate(kind, FLUX, kind === 'GitRepository' ? 'k8s-config' : 'reviews', (object) => void (object.metadata.annotations = { 'reconcile.fluxcd.io/requestedAt': 'now' }));
    for (let i = 0; i < 40 && (fluxStatus('HelmRelease', 'reviews').lastHandledReconcileAt !== 'now'); i += 1) await sleep(50);
    expect(fluxStatus('GitRepository', 'k8s-config')).toMatchObject({ artifact: { revision: `main@sha1:${repository.resolve('main')!.id}` } });
    expect(fluxStatus('HelmRelease', 'reviews')).toMatchObject({ lastHandledReconcileAt: 'now', lastAttemptedRevision: '1.4.0' });
    expect(stableImage()).toBe(OLD);
  }, 60_000);
});
