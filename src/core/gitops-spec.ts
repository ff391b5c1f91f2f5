// spec.gitops (DESIGN §10, issue 14): the config repository that declares the service's desired
// state, the files and keys that pin its stable image, how canarybot writes them (commit or merge
// request), what it does when Git and the cluster disagree, and the controller that applies Git.

/** Where in a file the image tag is pinned. */
export type GitOpsPin =
  /** A scalar at a dotted path of a Helm values file (`image.tag`); holds the tag. */
  | { kind: 'helmValues'; path: string[] }
  /** kustomization.yaml `images[name=<image>].newTag`. */
  | { kind: 'kustomizeImage'; image: string }
  /** A container's `image` (repository:tag) in a manifest document of this kind and name. */
  | { kind: 'manifest'; manifestKind: string; name: string; container: string };

export interface GitOpsFile {
  path: string;
  pin: GitOpsPin;
  /** Only for this cluster of target.cluster; absent: every cluster. */
  cluster?: string;
}

export type GitOpsSync =
  | { controller: 'argocd'; application: string; namespace: string; timeoutMs: number }
  | { controller: 'flux'; kind: 'Kustomization' | 'HelmRelease'; name: string; namespace: string; timeoutMs: number };

export interface GitOpsSpec {
  /** GitLab project path or numeric id of the config repository. */
  repository: string | number;
  /** Absent: the project's default branch. */
  branch?: string;
  files: GitOpsFile[];
  via: 'commit' | 'merge-request';
  onDrift: 'refuse' | 'warn';
  sync?: GitOpsSync;
  /** How long a `via: merge-request` release waits for the MR to be merged (sync.timeout, default 10 min). */
  mergeTimeoutMs: number;
}

export const DEFAULT_GITOPS_TIMEOUT_MS = 600_000;

/**
 * The files a cluster's promotion writes: its own (`cluster: <it>`) and, on the last cluster of the
 * release, the files without `cluster:`. Those pin the image for every cluster at once, so they are
 * written once, when every cluster has passed its canary, and never ahead of a cluster's canary.
 */
export function filesFor(spec: GitOpsSpec, cluster: string, lastCluster = true): GitOpsFile[] {
  return spec.files.filter((file) => (file.cluster === undefined ? lastCluster : file.cluster === cluster));
}

/** `image.tag`, `kustomize image registry/x`, `Deployment reviews-primary container reviews`: for notes. */
export function describePin(pin: GitOpsPin): string {
  switch (pin.kind) {
    case 'helmValues':
      return pin.path.join('.');
    case 'kustomizeImage':
      return `images[name=${pin.image}].newTag`;
    case 'manifest':
      return `${pin.manifestKind} ${pin.name} container ${pin.container}`;
  }
}
