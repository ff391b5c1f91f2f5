// spec.gitops as pinned in issue 14 / DESIGN §10, validated into GitOpsSpec. Each file entry names
// exactly one of helmValues, kustomizeImage, manifest; sync names exactly one of argocd, flux.

import { z } from 'zod';
import { DEFAULT_GITOPS_TIMEOUT_MS, type GitOpsFile, type GitOpsSpec, type GitOpsSync } from '../core/gitops-spec.js';
import { duration, kubernetesName, shown, text } from './fields.js';

const repositorySchema = z.unknown().transform((value, ctx): string | number => {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^[\w.-]+(\/[\w.-]+)+$/.test(value)) return value;
  ctx.addIssue({ code: 'custom', message: `must be a GitLab project path such as platform/k8s-config, or a numeric id (got ${shown(value)})` });
  return z.NEVER;
});

const filePathSchema = text.refine((path) => !path.startsWith('/') && !path.split('/').some((part) => part === '..' || part === '') , {
  error: (issue) => `must be a path inside the repository such as apps/reviews/values.yaml (got ${shown(issue.input)})`,
});

const dottedPathSchema = text.transform((value, ctx): string[] => {
  const parts = value.split('.');
  if (parts.some((part) => part.trim() === '')) {
    ctx.addIssue({ code: 'custom', message: `must be a dotted path of keys such as image.tag (got ${shown(value)})` });
    return z.NEVER;
  }
  return parts;
});

const imageNameSchema = text.refine((image) => !image.includes('@') && !/:[^/]*$/.test(image), {
  error: (issue) => `must be the image name as kustomization.yaml's images[].name has it, without a tag (got ${shown(issue.input)})`,
});

const fileSchema = z
  .strictObject({
    path: filePathSchema,
    helmValues: dottedPathSchema.optional(),
    kustomizeImage: imageNameSchema.optional(),
    manifest: z.strictObject({ kind: text.default('Deployment'), name: kubernetesName, container: text }).optional(),
    cluster: text.optional(),
  })
  .superRefine((file, ctx) => {
    const given = (['helmValues', 'kustomizeImage', 'manifest'] as const).filter((key) => file[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? 'needs one of helmValues, kustomizeImage or manifest: where the image tag is pinned' : `has ${given.join(' and ')}: give exactly one`,
      });
    }
  })
  .transform((file): GitOpsFile => {
    const pin: GitOpsFile['pin'] = file.helmValues
      ? { kind: 'helmValues', path: file.helmValues }
      : file.kustomizeImage
        ? { kind: 'kustomizeImage', image: file.kustomizeImage }
        : { kind: 'manifest', manifestKind: file.manifest!.kind, name: file.manifest!.name, container: file.manifest!.container };
    return file.cluster === undefined ? { path: file.path, pin } : { path: file.path, pin, cluster: file.cluster };
  });

const syncSchema = z
  .strictObject({
    argocd: z.strictObject({ application: kubernetesName, namespace: kubernetesName.default('argocd') }).optional(),
    flux: z
      .strictObject({
        kind: z.enum(['Kustomization', 'HelmRelease'], { error: (issue) => `must be Kustomization or HelmRelease (got ${shown(issue.input)})` }),
        name: kubernetesName,
        namespace: kubernetesName.default('flux-system'),
      })
      .optional(),
    timeout: duration().default(DEFAULT_GITOPS_TIMEOUT_MS),
  })
  .superRefine((sync, ctx) => {
    if ((sync.argocd === undefined) === (sync.flux === undefined)) {
      ctx.addIssue({ code: 'custom', message: sync.argocd ? 'has argocd and flux: give exactly one controller' : 'needs argocd or flux: the controller that applies the repository' });
    }
  })
  .transform((sync): GitOpsSync =>
    sync.argocd
      ? { controller: 'argocd', application: sync.argocd.application, namespace: sync.argocd.namespace, timeoutMs: sync.timeout }
      : { controller: 'flux', kind: sync.flux!.kind, name: sync.flux!.name, namespace: sync.flux!.namespace, timeoutMs: sync.timeout },
  );

export const gitopsSchema = z
  .strictObject({
    repository: repositorySchema,
    branch: text.optional(),
    files: z.array(fileSchema).min(1, { error: 'needs at least one file that pins the stable image' }),
    via: z.enum(['commit', 'merge-request'], { error: (issue) => `must be commit or merge-request (got ${shown(issue.input)})` }).default('commit'),
    onDrift: z.enum(['refuse', 'warn'], { error: (issue) => `must be refuse or warn (got ${shown(issue.input)})` }).default('refuse'),
    sync: syncSchema.optional(),
  })
  .transform((gitops): GitOpsSpec => {
    const out: GitOpsSpec = { repository: gitops.repository, files: gitops.files, via: gitops.via, onDrift: gitops.onDrift, mergeTimeoutMs: gitops.sync?.timeoutMs ?? DEFAULT_GITOPS_TIMEOUT_MS };
    if (gitops.branch !== undefined) out.branch = gitops.branch;
    if (gitops.sync !== undefined) out.sync = gitops.sync;
    return out;
  });

/**
 * Problems that need the rest of the spec: a file's cluster must be one the target releases to; with
 * several clusters, each needs a file of its own, since a file without `cluster:` is written only
 * with the last cluster's promotion (before it, every cluster's controller would apply it at once).
 */
export function gitopsClusterProblems(gitops: GitOpsSpec, clusters: readonly string[]): { path: (string | number)[]; message: string }[] {
  const unknown = gitops.files.flatMap((file, index) =>
    file.cluster === undefined || clusters.includes(file.cluster)
      ? []
      : [{ path: ['files', index, 'cluster'], message: `must be one of target.cluster (${clusters.join(', ')}) (got ${shown(file.cluster)})` }],
  );
  const shared = gitops.files.findIndex((file) => file.cluster === undefined);
  if (clusters.length < 2 || shared < 0) return unknown;
  const without = clusters.slice(0, -1).filter((cluster) => !gitops.files.some((file) => file.cluster === cluster));
  if (without.length === 0) return unknown;
  const message = `has no cluster: and target.cluster lists ${clusters.length} clusters: a file for every cluster is written once, with the last cluster's promotion (${clusters.at(-1)!}), so ${without.join(', ')} needs a file of its own (cluster: ${without[0]!}) for its stable Deployment to follow Git cluster by cluster`;
  return [...unknown, { path: ['files', shared], message }];
}
