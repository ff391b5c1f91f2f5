// The world `canarybot demo` releases into: Bookinfo's `reviews` service as the Kubernetes
// simulator holds it, the GitLab project with two merge requests and their people, and a short
// release pipeline definition so a whole release takes seconds.

import type { SeedMember, SeedMergeRequest, SeedProject, SeedUser } from '../sim/gitlab-api-store.js';

export const NAMESPACE = 'bookinfo';
export const SERVICE = 'reviews';
export const STABLE = { deployment: 'reviews-primary', subset: 'stable' } as const;
export const CANARY = { deployment: 'reviews-canary', subset: 'canary' } as const;
/** The fresh baseline the judge compares the canary with: the stable image, created for each release. */
export const BASELINE = { deployment: 'reviews-baseline', subset: 'baseline' } as const;
export const IMAGE = 'registry.example.com/bookinfo/reviews';

export const PROJECT: SeedProject = { id: 42, path: 'bookinfo/reviews', defaultBranch: 'main' };
/** The platform team's config repository: the Helm chart whose values.yaml pins the stable image (spec.gitops). */
export const CONFIG_PROJECT = { id: 77, path: 'platform/k8s-config', chart: 'apps/reviews', values: 'apps/reviews/values.yaml' } as const;
/** The Argo CD Application that applies the chart (the simulated Argo CD in demo-world.ts). */
export const ARGO_APPLICATION = { namespace: 'argocd', name: SERVICE } as const;

/** values.yaml as the platform team wrote it; canarybot edits only the tag. */
export const CONFIG_VALUES = `# reviews — the stable release, applied by Argo CD
image:
  repository: ${IMAGE}
  tag: v1   # promoted by canarybot
replicas: 3
`;

/** The chart: the stable Deployment only (the canary, the baseline and the routes are canarybot's). */
function configFiles(): Record<string, string> {
  const dir = CONFIG_PROJECT.chart;
  return {
    [`${dir}/Chart.yaml`]: `apiVersion: v2\nname: ${SERVICE}\nversion: 1.0.0\n`,
    [CONFIG_PROJECT.values]: CONFIG_VALUES,
    [`${dir}/templates/deployment.yaml`]: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${STABLE.deployment}
  namespace: {{ .Release.Namespace }}
  labels: { app: ${SERVICE} }
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: { app: ${SERVICE}, track: stable }
  template:
    metadata:
      labels: { app: ${SERVICE}, track: stable }
    spec:
      containers:
        - name: ${SERVICE}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
`,
  };
}
export const BOT_USER: SeedUser = { id: 1, username: 'canarybot', name: 'canarybot' };
/** Writes the code; may not approve her own release. */
export const AUTHOR: SeedUser = { id: 2, username: 'alice', name: 'Alice Author' };
/** The demo's release manager, a Maintainer of the project: the auto-approver. */
export const RELEASE_MANAGER: SeedUser = { id: 3, username: 'rm-demo', name: 'Demo Release Manager' };

export interface DemoChange {
  iid: number;
  sha: string;
  title: string;
}

/** The merges the demo releases: a good one, a broken one, and one that is only slower. */
export const CHANGES: readonly DemoChange[] = [
  { iid: 1, sha: '3f1c9a7be2d4405d8a6c2e1f0b9d8c7a6e5f4d3c', title: 'Show star ratings in colour' },
  { iid: 2, sha: 'b7e4d2c19f8a4e6b9c3d2a1f0e9d8c7b6a5f4e3d', title: 'Cache reviews per product' },
  { iid: 3, sha: 'c8f5e3d20a9b4f7c8d4e3b2a1f0e9d8c7b6a5f4e', title: 'Render reviews with the new template engine' },
  { iid: 4, sha: 'd9a6f4e31b0c4a8d9e5f4c3b2a1f0e9d8c7b6a5f', title: 'Fix the review count in the footer' },
];

export function gitlabSeed(): { users: SeedUser[]; projects: SeedProject[]; mergeRequests: SeedMergeRequest[]; members: SeedMember[] } {
  return {
    users: [AUTHOR, RELEASE_MANAGER],
    projects: [PROJECT, { id: CONFIG_PROJECT.id, path: CONFIG_PROJECT.path, defaultBranch: 'main', files: configFiles() }],
    mergeRequests: CHANGES.map((change) => ({
      projectId: PROJECT.id,
      iid: change.iid,
      title: change.title,
      state: 'merged',
      authorId: AUTHOR.id,
      sourceBranch: `feature-${change.iid}`,
      targetBranch: 'main',
      sha: change.sha,
      mergeCommitSha: change.sha,
      commits: [change.sha],
    })),
    members: [
      { projectId: PROJECT.id, userId: AUTHOR.id, accessLevel: 30 },
      { projectId: PROJECT.id, userId: RELEASE_MANAGER.id, accessLevel: 40 },
    ],
  };
}

function deployment(name: string, track: string, replicas: number, image: string): KubeSeedObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, labels: { app: SERVICE } },
    spec: {
      replicas,
      selector: { matchLabels: { app: SERVICE, track } },
      template: {
        metadata: { labels: { app: SERVICE, track } },
        spec: { containers: [{ name: SERVICE, image }] },
      },
    },
  };
}

/** What the cluster holds before the first release: reviews-v1 serving 100 % as the stable side. */
export interface KubeSeedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: unknown;
}

export function kubeSeed(): KubeSeedObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, namespace: NAMESPACE, labels: { 'istio-injection': 'enabled' } }, spec: {} },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: { selector: { app: SERVICE }, ports: [{ name: 'http', port: 9080 }] },
    },
    deployment(STABLE.deployment, 'stable', 3, `${IMAGE}:v1`),
    deployment(CANARY.deployment, 'canary', 0, `${IMAGE}:v1`),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: {
        host: SERVICE,
        subsets: [
          { name: STABLE.subset, labels: { app: SERVICE, track: 'stable' } },
          { name: CANARY.subset, labels: { app: SERVICE, track: 'canary' } },
          { name: BASELINE.subset, labels: { app: SERVICE, track: 'baseline' } },
        ],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: {
        hosts: [SERVICE],
        http: [{ name: 'primary', route: [{ destination: { host: SERVICE, subset: STABLE.subset }, weight: 100 }] }],
      },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: ARGO_APPLICATION.name, namespace: ARGO_APPLICATION.namespace },
      spec: {
        project: 'default',
        source: { repoURL: `http://gitlab.demo/${CONFIG_PROJECT.path}.git`, path: CONFIG_PROJECT.chart, targetRevision: 'main', helm: { releaseName: SERVICE } },
        destination: { namespace: NAMESPACE },
        // What the README's GitOps section asks for: canarybot's fields are its own.
        ignoreDifferences: [
          { group: 'networking.istio.io', kind: 'VirtualService', name: SERVICE, managedFieldsManagers: ['canarybot'] },
          { group: 'apps', kind: 'Deployment', name: CANARY.deployment, managedFieldsManagers: ['canarybot'] },
        ],
        syncPolicy: { automated: { selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] },
      },
    },
  ];
}

interface RouteDestination {
  destination?: { host?: string; subset?: string };
  weight?: number;
}

/** The live split of the managed route, as the mesh would apply it (no weight on one destination = 100). */
export function routeShare(virtualService: unknown): { stable: number; canary: number; baseline: number } {
  const spec = (virtualService as { spec?: { http?: Array<{ name?: string; route?: RouteDestination[] }> } } | undefined)?.spec;
  const route = spec?.http?.find((http) => http.name === 'primary')?.route ?? [];
  const weightOf = (subset: string): number => {
    const found = route.filter((r) => r.destination?.host === SERVICE && r.destination.subset === subset);
    return found.reduce((sum, r) => sum + (r.weight ?? (route.length === 1 ? 100 : 0)), 0);
  };
  return { stable: weightOf(STABLE.subset), canary: weightOf(CANARY.subset), baseline: weightOf(BASELINE.subset) };
}

/**
 * The demo's release pipeline: the shape of pipelines/reviews.yaml with seconds instead of minutes,
 * judged against a fresh baseline (which takes as much traffic as the canary, so 50 % is full weight).
 */
export const DEMO_DEFINITION = `# Written by \`canarybot demo\`: pipelines/reviews.yaml with demo timings.
apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: ${SERVICE}
spec:
  trigger:
    project: ${PROJECT.path}
    branch: main
    image: ${IMAGE}
    tag: short-sha
  target:
    cluster: default
    namespace: ${NAMESPACE}
    virtualService: ${SERVICE}
    route: primary
    host: ${SERVICE}
    stable: { subset: ${STABLE.subset}, deployment: ${STABLE.deployment} }
    canary: { subset: ${CANARY.subset}, deployment: ${CANARY.deployment}, container: ${SERVICE} }
    baseline: { subset: ${BASELINE.subset}, deployment: ${BASELINE.deployment} }
    settle: 1s
    readinessDeadline: 30s
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: { duration: 2s }
        - analysis: {}
        - setWeight: 30
        - approval: {}
        - setWeight: 50
        - analysis: {}
  analysis:
    interval: 1s
    window: 10s
    count: 3
    failureLimit: 0
    minRequests: 20
    judge:
      step: 1s
    metrics:
      - name: request-success-rate
        min: 99
        judge: {}
      - name: request-duration-p99
        max: 500
        judge: {}
  approvals:
    minAccessLevel: maintainer
    allowAuthor: false
  gitops:
    repository: ${CONFIG_PROJECT.path}
    branch: main
    files:
      - path: ${CONFIG_PROJECT.values}
        helmValues: image.tag
    sync:
      argocd: { application: ${ARGO_APPLICATION.name}, namespace: ${ARGO_APPLICATION.namespace} }
      timeout: 30s
`;
