// What the whole-bot release-train tests share: Bookinfo's three member projects on the GitLab API
// test server (productpage's MR 1 is where commands are written), a ReleaseTrain definition with
// the steps a test needs, the `/canary` Note Hook on that MR, and reads of the run store and the
// cluster. Each test starts its own servers and bot; this only spares it the same set-up.

import type { Redis } from 'ioredis';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { TRAIN_NAME, TRAIN_NAMESPACE, TRAIN_SERVICES } from '../../src/demo/bookinfo-train.js';
import { fixture, type Payload } from '../gitlab/helpers.js';
import type { GitLabApiServer } from './gitlab-api-server.js';
import type { KubeApiServer } from './kube-api-server.js';

export interface TrainPerson {
  id: number;
  username: string;
  name: string;
}

export const TRAIN_ROOT: TrainPerson = { id: 1, username: 'root', name: 'Administrator' };
export const TRAIN_DEV: TrainPerson = { id: 8, username: 'dev', name: 'Dev' };
export const TRAIN_PROJECTS = { productpage: 21, reviews: 22, ratings: 23 } as const;
/** The entry member's project: its MR 1 carries the `/canary train …` comments. */
export const TRAIN_ENTRY = { id: TRAIN_PROJECTS.productpage, path: 'bookinfo/productpage' };
export const TRAIN_PREFIX = '{canarybot}';

/** `kind: ReleaseTrain` for Bookinfo's chain with a beta-user cohort and these steps (YAML list items, indented four). */
export function trainYaml(steps: string): string {
  return `apiVersion: canarybot/v1
kind: ReleaseTrain
metadata:
  name: ${TRAIN_NAME}
spec:
  members: [${TRAIN_SERVICES.join(', ')}]
  lane: { header: x-canary-lane, value: bookinfo-v2 }
  entry:
    member: productpage
    cohort:
      - headers: { x-user-group: { exact: beta } }
  steps:
${steps}
  promote: ordered
`;
}

/** The member projects, root a Maintainer of each (and dev a Developer when asked), dev's MR 1 on productpage. */
export function seedTrainGitLab(gitlab: GitLabApiServer, options: { developers?: boolean; tokens?: Array<{ token: string; userId: number }> } = {}): void {
  gitlab.seed({
    users: [TRAIN_ROOT, TRAIN_DEV],
    projects: TRAIN_SERVICES.map((service) => ({ id: TRAIN_PROJECTS[service], path: `bookinfo/${service}`, defaultBranch: 'main' })),
    mergeRequests: [{ projectId: TRAIN_ENTRY.id, iid: 1, authorId: TRAIN_DEV.id, title: 'productpage v2', targetBranch: 'main' }],
    ...(options.tokens ? { tokens: options.tokens } : {}),
    members: TRAIN_SERVICES.flatMap((service) => [
      { projectId: TRAIN_PROJECTS[service], userId: TRAIN_ROOT.id, accessLevel: 40 },
      ...(options.developers ? [{ projectId: TRAIN_PROJECTS[service], userId: TRAIN_DEV.id, accessLevel: 30 }] : []),
    ]),
  });
}

/** `text` written by `author` on productpage's MR 1 (stored in the GitLab server), and GitLab's Note Hook for it. */
export function trainCommentHook(gitlab: GitLabApiServer, text: string, author: TrainPerson = TRAIN_ROOT): Payload {
  const note = gitlab.addNote(TRAIN_ENTRY.id, 1, text, author.id);
  const hook = fixture('note-on-mr');
  const createdAt = new Date().toISOString();
  hook.user = { ...hook.user, id: author.id, username: author.username, name: author.name };
  hook.project = { ...hook.project, id: TRAIN_ENTRY.id, path_with_namespace: TRAIN_ENTRY.path };
  hook.project_id = TRAIN_ENTRY.id;
  hook.object_attributes = { ...hook.object_attributes, id: note.id, note: text, author_id: author.id, discussion_id: note.discussionId, project_id: TRAIN_ENTRY.id, created_at: createdAt, updated_at: createdAt };
  hook.merge_request = { ...hook.merge_request, iid: 1, author_id: TRAIN_DEV.id, target_project_id: TRAIN_ENTRY.id, source_project_id: TRAIN_ENTRY.id };
  return hook;
}

/** The newest run as the store holds it (what survives the process). */
export async function newestTrainRun(reader: Redis): Promise<TrainRun | null> {
  const [id] = await reader.zrevrange(`${TRAIN_PREFIX}:train:runs`, 0, 0);
  if (!id) return null;
  const text = await reader.get(`${TRAIN_PREFIX}:train:run:${id}`);
  return text ? (JSON.parse(text) as TrainRun) : null;
}

export function canaryReplicas(kube: KubeApiServer, service: string): number {
  return ((kube.object('Deployment', TRAIN_NAMESPACE, `${service}-canary`)?.spec ?? {}) as { replicas?: number }).replicas ?? 0;
}

export function stableImage(kube: KubeApiServer, service: string): string {
  return (kube.object('Deployment', TRAIN_NAMESPACE, `${service}-primary`)?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image ?? '';
}
