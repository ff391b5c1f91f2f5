// End to end beside a self-healing Argo CD whose Application source is a Helm chart: canarybot
// edits `image.tag` in the chart's values.yaml (spec.gitops helmValues), the simulated Argo CD
// renders the chart (src/sim/gitops) and applies the new image to the stable Deployment; the
// canary weights survive its reconciles; values.yaml keeps its comments byte for byte.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { Release } from '../../src/core/release.js';
import { SimulatedArgoCd } from '../../src/sim/gitops-controller.js';
import { deployment, NS, virtualService } from '../mesh/fixtures.js';
import { startHarness, type MeshHarness } from '../mesh/harness.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';
import { runRelease, sleep } from './release-loop.js';
import { REVIEWS_CHART_VALUES, reviewsChart } from './reviews-chart.js';

const OLD = 'registry.example.com/bookinfo/reviews:v1';
const NEW = 'registry.example.com/bookinfo/reviews:0a1b2c3d';
const GITOPS: GitOpsSpec = {
  repository: 'platform/k8s-config',
  branch: 'main',
  files: [{ path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } }],
  via: 'commit',
  onDrift: 'refuse',
  sync: { controller: 'argocd', application: 'reviews', namespace: 'argocd', timeoutMs: 30_000 },
  mergeTimeoutMs: 30_000,
};

let mesh: MeshHarness;
let gitlab: GitLabApiServer;
let argo: SimulatedArgoCd;

beforeEach(async () => {
  mesh = await startHarness();
  gitlab = await startGitLabApiServer();
  gitlab.seed({ projects: [{ id: 42, path: 'platform/k8s-config', files: reviewsChart('apps/reviews') }] });
  mesh.server.seed(virtualService() as never);
  mesh.server.seed(deployment('reviews-primary', 'stable', 3, OLD) as never);
  mesh.server.seed(deployment('reviews-canary', 'canary', 0, OLD) as never);
  mesh.server.seed({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'reviews', namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'http://gitlab.test/platform/k8s-config.git', path: 'apps/reviews', targetRevision: 'main', helm: { releaseName: 'reviews' } },
      destination: { namespace: NS },
      ignoreDifferences: [
        { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', managedFieldsManagers: ['canarybot'] },
        { group: 'apps', kind: 'Deployment', name: 'reviews-canary', managedFieldsManagers: ['canarybot'] },
      ],
      syncPolicy: { automated: { selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] },
    },
  } as never);
  argo = new SimulatedArgoCd({ kube: mesh.server, gitlab, application: { namespace: 'argocd', name: 'reviews' }, repository: { projectId: 42, branch: 'main', path: 'apps/reviews' }, intervalMs: 150 });
  argo.start();
});
afterEach(async () => {
  argo.stop();
  await gitlab.close();
  await mesh.close();
});

function release(): Release {
  const definition = reviewsDefinition({ target: reviewsTarget({ namespace: NS, settleMs: 0 }), strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause', durationMs: 400 }] }, gitops: GITOPS });
  return releaseRecord({ id: 'rel-helm', definition, namespace: NS, image: NEW, phase: 'created' });
}

const stableImage = () => ((mesh.server.object('Deployment', NS, 'reviews-primary')!.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers.find((c) => c.name === 'reviews')!.image);
const weights = () => ((mesh.server.object('VirtualService', NS, 'reviews')!.spec as { http: { route: { weight?: number }[] }[] }).http[0]!.route.map((route) => route.weight ?? 0));
const values = () => gitlab.repositories.repository(42).resolve('main')!.files.get('apps/reviews/values.yaml')!;

describe('beside Argo CD rendering a Helm chart', () => {
  it('the helmValues edit is what Argo CD renders and applies to the stable Deployment; weights survive; the file keeps its formatting', async () => {
    let weightsDuringCanary: number[] = [];
    const end = await runRelease(mesh, gitlab, release(), async (r) => {
      if (r.state === 'progressing' && r.stepIndex === 1) {
        await sleep(400);
        weightsDuringCanary = weights();
      }
    });
    await sleep(400);

    expect(end.state).toBe('succeeded');
    expect(weightsDuringCanary).toEqual([80, 20]);
    expect(values()).toBe(REVIEWS_CHART_VALUES.replace('tag: v1   #', 'tag: 0a1b2c3d   #'));
    expect(stableImage()).toBe(NEW);
    expect(argo.applied.at(-1)).toBe(end.gitops?.commit?.sha);
    const canarybotImageWrites = mesh.server.writes().filter((write) => write.path.endsWith('/deployments/reviews-primary') && write.query.includes('fieldManager=canarybot') && JSON.stringify(write.body).includes('0a1b2c3d'));
    expect(canarybotImageWrites).toEqual([]);
  }, 60_000);
});
