// The world the bot runs against in the wiring and end-to-end tests: a Kubernetes API test server
// seeded with Bookinfo's `reviews`, a GitLab API test server with the project of GitLab's
// documented pipeline payload, a fast pipeline definition, and helpers to deliver webhooks.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployment, destinationRule, namespace, NS, service, virtualService } from '../mesh/fixtures.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { fixture, type Payload } from '../gitlab/helpers.js';

export const PROJECT = 1;
export const PROJECT_PATH = 'gitlab-org/gitlab-test';
export const ROOT = { id: 1, username: 'root', name: 'Administrator' };
export const ALICE = { id: 8, username: 'alice', name: 'Alice' };
export const BOT_USER = { id: 99, username: 'canarybot', name: 'canarybot' };
export const IMAGE = 'registry.example.com/bookinfo/reviews';

export interface ReviewsDefinitionOptions {
  name?: string;
  namespace?: string;
  branch?: string;
  settle?: string;
  /** The canary steps, one YAML flow item each, e.g. `setWeight: 20`, `pause: { duration: 4s }`. */
  steps: string[];
  /** More of `spec` after the strategy, indented two spaces (analysis, alerts, approvals, gitops, …). */
  spec?: string;
}

/** Bookinfo's `reviews` as a ReleasePipeline on the world's project and image: the target every end-to-end test shares. */
export function reviewsDefinition(options: ReviewsDefinitionOptions): string {
  return `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: ${options.name ?? 'reviews'}
spec:
  trigger:
    project: ${PROJECT_PATH}
    branch: ${options.branch ?? 'master'}
    image: ${IMAGE}
    tag: short-sha
  target:
    cluster: default
    namespace: ${options.namespace ?? NS}
    virtualService: reviews
    route: primary
    host: reviews
    stable: { subset: stable, deployment: reviews-primary }
    canary: { subset: canary, deployment: reviews-canary, container: reviews }
    settle: ${options.settle ?? '1s'}
  strategy:
    canary:
      steps:
${options.steps.map((step) => `        - ${step}\n`).join('')}${options.spec ?? ''}`;
}

/** Checks every 1 s over a 5 s window of at least 5 requests, success rate ≥ 95 %: `count` passes end the step. */
export function fastAnalysis(options: { count: number; inconclusiveLimit: number; consecutiveErrorLimit?: number }): string {
  return `  analysis:
    interval: 1s
    window: 5s
    count: ${options.count}
    failureLimit: 0
    inconclusiveLimit: ${options.inconclusiveLimit}
${options.consecutiveErrorLimit !== undefined ? `    consecutiveErrorLimit: ${options.consecutiveErrorLimit}\n` : ''}    minRequests: 5
    metrics:
      - name: request-success-rate
        min: 95
`;
}

/** A fast `reviews` definition: settle 1s, checks every 1s over a 5s window, 2 passes needed, then an approval. */
export const REVIEWS_YAML = reviewsDefinition({
  steps: ['setWeight: 20', 'analysis: {}', 'approval: {}', 'setWeight: 100'],
  spec: `${fastAnalysis({ count: 2, inconclusiveLimit: 10 })}  alerts:
    - alertmanager: { matchers: ['service="reviews"', 'severity="critical"'] }
  approvals:
    minAccessLevel: maintainer
    allowAuthor: false
`,
});

export interface World {
  kube: KubeApiServer;
  gitlab: GitLabApiServer;
  kubeconfig: string;
  pipelinesDir: string;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const kube = await KubeApiServer.start();
  kube.seed(virtualService());
  kube.seed(destinationRule());
  kube.seed(service());
  kube.seed(namespace());
  kube.seed(deployment('reviews-primary', 'stable', 2));
  kube.seed(deployment('reviews-canary', 'canary', 0));
  kube.clearRecord();
  const kubeconfig = kube.writeKubeconfig([kube.cluster('test')]);

  const gitlab = await startGitLabApiServer({ botUser: BOT_USER });
  gitlab.seed({
    users: [ROOT, ALICE],
    projects: [{ id: PROJECT, path: PROJECT_PATH, defaultBranch: 'master' }],
    mergeRequests: [1, 2, 3].map((iid) => ({ projectId: PROJECT, iid, authorId: ALICE.id, title: `Reviews change ${iid}`, targetBranch: 'master' })),
    members: [
      { projectId: PROJECT, userId: ROOT.id, accessLevel: 40 },
      { projectId: PROJECT, userId: ALICE.id, accessLevel: 30 },
    ],
  });

  const pipelinesDir = mkdtempSync(join(tmpdir(), 'canarybot-pipelines-'));
  writeFileSync(join(pipelinesDir, 'reviews.yaml'), REVIEWS_YAML);

  return {
    kube,
    gitlab,
    kubeconfig,
    pipelinesDir,
    close: async () => {
      await gitlab.close();
      await kube.close();
      rmSync(pipelinesDir, { recursive: true, force: true });
    },
  };
}

/** Bookinfo's `reviews` (VirtualService, DestinationRule, Service, both Deployments) in another namespace `ns`. */
export function seedNamespace(world: World, ns: string): void {
  const inNamespace = <T extends { metadata: { name: string; namespace?: string } }>(object: T): T => ({ ...object, metadata: { ...object.metadata, namespace: ns } });
  world.kube.seed({ ...namespace(), metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } } as never);
  world.kube.seed(inNamespace(virtualService()));
  world.kube.seed(inNamespace(destinationRule()));
  world.kube.seed(inNamespace(service()));
  world.kube.seed(inNamespace(deployment('reviews-primary', 'stable', 2)));
  world.kube.seed(inNamespace(deployment('reviews-canary', 'canary', 0)));
}

/** GitLab's documented Pipeline Hook for a new commit `sha`, reporting to MR `iid`. */
export function pipelineHook(sha: string, iid: number): Payload {
  const hook = fixture('pipeline-success');
  // A new pipeline per commit: the bot deduplicates triggers by pipeline.
  hook.object_attributes.id = Number.parseInt(sha.slice(0, 7), 16);
  hook.object_attributes.sha = sha;
  hook.object_attributes.before_sha = sha;
  hook.commit.id = sha;
  hook.project.id = PROJECT;
  hook.merge_request.iid = iid;
  hook.merge_request.target_project_id = PROJECT;
  return hook;
}

/** A `/canary …` comment written on MR `iid` by `author` (stored in the GitLab server), and its Note Hook. */
export function commentHook(world: World, iid: number, text: string, author: { id: number; username: string; name: string }): Payload {
  const note = world.gitlab.addNote(PROJECT, iid, text, author.id);
  const hook = fixture('note-on-mr');
  hook.user = { ...hook.user, id: author.id, username: author.username, name: author.name };
  hook.project = { ...hook.project, id: PROJECT, path_with_namespace: PROJECT_PATH };
  hook.project_id = PROJECT;
  const createdAt = new Date().toISOString();
  hook.object_attributes = { ...hook.object_attributes, id: note.id, note: text, author_id: author.id, discussion_id: note.discussionId, project_id: PROJECT, created_at: createdAt, updated_at: createdAt };
  hook.merge_request = { ...hook.merge_request, iid, author_id: ALICE.id, target_project_id: PROJECT, source_project_id: PROJECT };
  return hook;
}

export function webhookHeaders(secret: string, event: 'Pipeline Hook' | 'Note Hook'): Record<string, string> {
  return { 'content-type': 'application/json', 'x-gitlab-token': secret, 'x-gitlab-event': event, 'x-gitlab-webhook-uuid': randomUUID() };
}

/** The bot's progress notes (those carrying a release marker) on MR `iid`. */
export function progressNotes(world: World, iid: number) {
  return world.gitlab.notes(PROJECT, iid).filter((note) => note.body.startsWith('<!-- canarybot:release:'));
}

/** The VirtualService route's weights as stored: subset → weight. */
export function routeWeights(world: World, ns = NS): Record<string, number> {
  const spec = world.kube.object('VirtualService', ns, 'reviews')?.spec as { http: { name?: string; route: { destination: { subset?: string }; weight?: number }[] }[] };
  const route = spec.http.find((r) => r.name === 'primary') ?? spec.http[0];
  return Object.fromEntries((route?.route ?? []).map((d) => [d.destination.subset ?? '', d.weight ?? 100]));
}

export function deploymentState(world: World, name: string, ns = NS): { image: string | undefined; replicas: number | undefined } {
  const object = world.kube.object('Deployment', ns, name) as { spec?: { replicas?: number; template?: { spec?: { containers?: { name: string; image: string }[] } } } } | undefined;
  const container = object?.spec?.template?.spec?.containers?.find((c) => c.name === 'reviews');
  return { image: container?.image, replicas: object?.spec?.replicas };
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
