// spec.gitops as pinned in issue 14: the normalized GitOpsSpec with its defaults, and every
// mistake reported with file, line and column like any other field.

import { describe, expect, it } from 'vitest';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import { parseDefinition } from '../../src/pipelines/parse-definition.js';

function definition(gitops: string, cluster = ''): string {
  return `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: reviews
spec:
  trigger:
    project: bookinfo/reviews
    image: registry.example.com/bookinfo/reviews
  target:${cluster}
    namespace: bookinfo
    virtualService: reviews
    host: reviews
    stable: { subset: stable, deployment: reviews-primary }
    canary: { subset: canary, deployment: reviews-canary, container: reviews }
  strategy:
    canary:
      steps: [{ setWeight: 10 }, { analysis: {} }, { setWeight: 100 }]
  analysis:
    metrics: [{ name: request-success-rate, min: 99 }]
  gitops:
${gitops}`;
}

const PINNED = `    repository: platform/k8s-config
    branch: main
    files:
      - path: apps/reviews/values.yaml
        helmValues: image.tag
      - path: apps/reviews/kustomization.yaml
        kustomizeImage: registry.example.com/bookinfo/reviews
      - path: apps/reviews/deployment.yaml
        manifest: { kind: Deployment, name: reviews-primary, container: reviews }
    via: commit
    onDrift: refuse
    sync:
      argocd: { application: reviews, namespace: argocd }
      timeout: 10m
`;

describe('spec.gitops', () => {
  it('normalizes the pinned example', () => {
    const { definition: parsed, errors } = parseDefinition(definition(PINNED), 'reviews.yaml');

    expect(errors).toEqual([]);
    expect(parsed?.gitops).toEqual<GitOpsSpec>({
      repository: 'platform/k8s-config',
      branch: 'main',
      files: [
        { path: 'apps/reviews/values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } },
        { path: 'apps/reviews/kustomization.yaml', pin: { kind: 'kustomizeImage', image: 'registry.example.com/bookinfo/reviews' } },
        { path: 'apps/reviews/deployment.yaml', pin: { kind: 'manifest', manifestKind: 'Deployment', name: 'reviews-primary', container: 'reviews' } },
      ],
      via: 'commit',
      onDrift: 'refuse',
      sync: { controller: 'argocd', application: 'reviews', namespace: 'argocd', timeoutMs: 600_000 },
      mergeTimeoutMs: 600_000,
    });
  });

  it('fills in the defaults: default branch, commit, refuse, no sync; flux with its kind', () => {
    const minimal = `    repository: 17
    files: [{ path: values.yaml, helmValues: image.tag }]
    sync:
      flux: { kind: HelmRelease, name: reviews }
      timeout: 3m
`;
    const { definition: parsed, errors } = parseDefinition(definition(minimal), 'r.yaml');

    expect(errors).toEqual([]);
    expect(parsed?.gitops).toEqual<GitOpsSpec>({
      repository: 17,
      files: [{ path: 'values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } }],
      via: 'commit',
      onDrift: 'refuse',
      sync: { controller: 'flux', kind: 'HelmRelease', name: 'reviews', namespace: 'flux-system', timeoutMs: 180_000 },
      mergeTimeoutMs: 180_000,
    });
  });

  it('accepts a file for every cluster when each cluster before the last has one of its own', () => {
    const { definition: parsed, errors } = parseDefinition(definition('    repository: p/c\n    files: [{ path: base.yaml, helmValues: image.tag }, { path: staging.yaml, helmValues: image.tag, cluster: staging }]\n', '\n    cluster: [staging, prod]'), 'r.yaml');

    expect(errors).toEqual([]);
    expect(parsed?.gitops?.files.map((file) => file.cluster ?? 'every')).toEqual(['every', 'staging']);
  });

  it('keeps a file\'s cluster when the target releases to it', () => {
    const { definition: parsed, errors } = parseDefinition(definition('    repository: p/c\n    files: [{ path: prod.yaml, helmValues: image.tag, cluster: prod }]\n', '\n    cluster: [staging, prod]'), 'r.yaml');

    expect(errors).toEqual([]);
    expect(parsed?.gitops?.files[0]?.cluster).toBe('prod');
  });

  it.each<[string, string, string, number, number, RegExp]>([
    ['no pin', '    repository: p/c\n    files: [{ path: v.yaml }]\n', '', 22, 13, /needs one of helmValues, kustomizeImage or manifest/],
    ['two pins', '    repository: p/c\n    files:\n      - path: v.yaml\n        helmValues: image.tag\n        kustomizeImage: r/x\n', '', 23, 9, /has helmValues and kustomizeImage: give exactly one/],
    ['an absolute path', '    repository: p/c\n    files: [{ path: /etc/v.yaml, helmValues: a.b }]\n', '', 22, 21, /must be a path inside the repository/],
    ['an empty key in the dotted path', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: image..tag }]\n', '', 22, 41, /must be a dotted path of keys/],
    ['a tagged kustomize image', '    repository: p/c\n    files: [{ path: k.yaml, kustomizeImage: "r/x:v1" }]\n', '', 22, 45, /without a tag/],
    ['a bad via', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    via: push\n', '', 23, 10, /must be commit or merge-request \(got "push"\)/],
    ['a bad onDrift', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    onDrift: ignore\n', '', 23, 14, /must be refuse or warn/],
    ['both controllers', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    sync:\n      argocd: { application: a }\n      flux: { kind: Kustomization, name: b }\n', '', 24, 7, /has argocd and flux: give exactly one controller/],
    ['no controller', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    sync: { timeout: 5m }\n', '', 23, 11, /needs argocd or flux/],
    ['a bad flux kind', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    sync: { flux: { kind: GitRepository, name: b } }\n', '', 23, 27, /must be Kustomization or HelmRelease/],
    ['a repository that is no project', '    repository: k8s-config\n    files: [{ path: v.yaml, helmValues: a }]\n', '', 21, 17, /must be a GitLab project path/],
    ['no files', '    repository: p/c\n    files: []\n', '', 22, 12, /needs at least one file/],
    ['an unknown cluster', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a, cluster: prod }]\n', '', 22, 53, /must be one of target.cluster \(default\) \(got "prod"\)/],
    ['a file for every cluster while a cluster has none of its own', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }, { path: p.yaml, helmValues: a, cluster: prod }]\n', '\n    cluster: [staging, prod]', 23, 13, /has no cluster: and target.cluster lists 2 clusters: a file for every cluster is written once, with the last cluster's promotion \(prod\), so staging needs a file of its own \(cluster: staging\)/],
    ['an unknown field', '    repository: p/c\n    files: [{ path: v.yaml, helmValues: a }]\n    push: true\n', '', 23, 5, /push/],
  ])('reports %s at its line and column', (_name, gitops, cluster, line, column, message) => {
    const { definition: parsed, errors } = parseDefinition(definition(gitops, cluster), 'reviews.yaml');

    expect(parsed).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'reviews.yaml', line, column });
    expect(errors[0]!.message).toMatch(message);
  });
});
