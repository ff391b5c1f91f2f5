// The GitOps controller that applies the config repository, read and nudged through the Kubernetes
// API: Argo CD (Application: refresh annotation, then status.sync.revision = the commit, Synced and
// Healthy) or Flux (Kustomization / HelmRelease: reconcile.fluxcd.io/requestedAt, then
// status.lastAppliedRevision holding the commit and Ready=True); in both, the stable Deployment must
// then run the image with its rollout complete. Pre-flight refuses a controller that would revert
// canarybot's fields, with the YAML to add.

import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CanarybotError } from '../core/errors.js';
import type { GitOpsSync } from '../core/gitops-spec.js';
import { releaseTarget, type GitOpsAnswer } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { ClusterRegistry } from '../mesh/cluster-registry.js';
import { FIELD_MANAGER } from '../mesh/field-manager.js';
import { kubeCall } from '../mesh/kube-call.js';
import { rolloutStatus, type DeploymentState } from '../mesh/rollout-status.js';
import type { SyncController } from './gitops-adapter.js';
import { argoApplicationProblems, helmReleaseChartProblems, helmReleaseProblems, kustomizationObjectProblems } from './ignore-differences.js';

type Obj = Record<string, unknown> & { metadata?: { annotations?: Record<string, string> }; status?: Record<string, unknown> };

export const ARGOCD_REFRESH = 'argocd.argoproj.io/refresh';
export const FLUX_REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

function resourceOf(sync: GitOpsSync): { group: string; version: string; plural: string; kind: string; name: string; namespace: string } {
  if (sync.controller === 'argocd') return { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', kind: 'Application', name: sync.application, namespace: sync.namespace };
  return sync.kind === 'Kustomization'
    ? { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', kind: 'Kustomization', name: sync.name, namespace: sync.namespace }
    : { group: 'helm.toolkit.fluxcd.io', version: 'v2', plural: 'helmreleases', kind: 'HelmRelease', name: sync.name, namespace: sync.namespace };
}

function syncOf(release: Release): GitOpsSync {
  const sync = release.definition.gitops?.sync;
  if (!sync) throw new CanarybotError('INTERNAL', `release ${release.id} has no spec.gitops.sync`);
  return sync;
}

/** What a Flux object reports as applied: a Kustomization's revision, a HelmRelease's deployed chart version. */
function appliedRevision(kind: 'Kustomization' | 'HelmRelease', status: Record<string, unknown>): string {
  if (kind === 'Kustomization') return String(status.lastAppliedRevision ?? '');
  const latest = (status.history as { chartVersion?: string; status?: string }[] | undefined)?.[0];
  return latest?.status === 'deployed' ? String(latest.chartVersion ?? '') : '';
}

/** `main@sha1:<sha>` holds the commit; a chart built with reconcileStrategy Revision carries `+<first 12 of the sha>`. */
function revisionApplied(kind: 'Kustomization' | 'HelmRelease', applied: string, sha: string): boolean {
  return kind === 'Kustomization' ? applied.includes(sha) : applied.endsWith(`+${sha.slice(0, 12)}`);
}

/** The source a Flux object reads (its GitRepository), to be asked for a reconcile with it. */
function fluxSourceOf(object: Obj, namespace: string): { group: string; version: string; plural: string; kind: string; name: string; namespace: string } | null {
  const spec = (object as { spec?: { sourceRef?: SourceRef; chart?: { spec?: { sourceRef?: SourceRef } } } }).spec;
  const ref = spec?.sourceRef ?? spec?.chart?.spec?.sourceRef;
  if (ref?.kind !== 'GitRepository' || !ref.name) return null;
  return { group: 'source.toolkit.fluxcd.io', version: 'v1', plural: 'gitrepositories', kind: 'GitRepository', name: ref.name, namespace: ref.namespace ?? namespace };
}

type SourceRef = { kind?: string; name?: string; namespace?: string };

export function createSyncController(registry: ClusterRegistry): SyncController {
  async function read(release: Release): Promise<Obj> {
    const resource = resourceOf(syncOf(release));
    const client = registry.client(release.cluster);
    try {
      return (await kubeCall(`read ${resource.kind} ${resource.namespace}/${resource.name}`, () =>
        client.custom.getNamespacedCustomObject({ group: resource.group, version: resource.version, namespace: resource.namespace, plural: resource.plural, name: resource.name }),
      )) as Obj;
    } catch (error) {
      if (error instanceof CanarybotError && error.code === 'K8S_NOT_FOUND') {
        throw new CanarybotError('PREFLIGHT_FAILED', `spec.gitops.sync: ${resource.kind} ${resource.namespace}/${resource.name} not found on cluster ${release.cluster}`);
      }
      throw error;
    }
  }

  async function annotate(release: Release, key: string, value: string, resource = resourceOf(syncOf(release))): Promise<void> {
    const client = registry.client(release.cluster);
    await kubeCall(`annotate ${resource.kind} ${resource.namespace}/${resource.name}`, () =>
      client.custom.patchNamespacedCustomObject(
        { group: resource.group, version: resource.version, namespace: resource.namespace, plural: resource.plural, name: resource.name, body: { metadata: { annotations: { [key]: value } } }, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  /** requestedAt on the object and on its GitRepository; the source's is best effort (without RBAC on it, Flux still polls it on its interval). */
  async function requestFluxReconcile(release: Release, object: Obj): Promise<void> {
    const at = new Date().toISOString();
    const resource = resourceOf(syncOf(release));
    const source = fluxSourceOf(object, resource.namespace);
    if (source) {
      try {
        await annotate(release, FLUX_REQUESTED_AT, at, source);
      } catch (error) {
        if (!(error instanceof CanarybotError && (error.code === 'K8S_FORBIDDEN' || error.code === 'K8S_NOT_FOUND'))) throw error;
      }
    }
    await annotate(release, FLUX_REQUESTED_AT, at, resource);
  }

  async function stableRunning(release: Release, image: string): Promise<string | null> {
    const target = releaseTarget(release);
    const client = registry.client(release.cluster);
    const deployment = await kubeCall(`read Deployment ${target.stable.deployment}`, () => client.apps.readNamespacedDeployment({ name: target.stable.deployment, namespace: target.namespace }));
    const container = target.stable.container || target.canary.container;
    const running = deployment.spec?.template.spec?.containers.find((candidate) => candidate.name === container)?.image;
    if (running !== image) return `Deployment ${target.stable.deployment} still runs ${running ?? 'nothing'}`;
    const status = rolloutStatus(deployment as DeploymentState);
    if (status.state === 'failed') throw new CanarybotError('ROLLOUT_FAILED', `Deployment ${target.stable.deployment}: ${status.message}`);
    return status.state === 'ready' ? null : `Deployment ${target.stable.deployment}: ${status.message}`;
  }

  return {
    async preflight(release) {
      const sync = syncOf(release);
      const object = await read(release);
      const target = releaseTarget(release);
      const resource = resourceOf(sync);
      const stale = sync.controller === 'flux' && sync.kind === 'HelmRelease' ? helmReleaseChartProblems(object as never) : null;
      if (stale) throw new CanarybotError('PREFLIGHT_FAILED', `spec.gitops.sync: ${resource.kind} ${resource.namespace}/${resource.name}: ${stale}`);
      let problem: string | null;
      if (sync.controller === 'argocd') problem = argoApplicationProblems(object as never, target);
      else if (sync.kind === 'HelmRelease') problem = helmReleaseProblems(object as never, target);
      else {
        const client = registry.client(release.cluster);
        const vs = (await kubeCall('read VirtualService', () => client.custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: target.namespace, plural: 'virtualservices', name: target.virtualService }))) as Obj;
        const canary = await kubeCall('read Deployment', () => client.apps.readNamespacedDeployment({ name: target.canary.deployment, namespace: target.namespace }));
        problem = kustomizationObjectProblems([
          { kind: 'VirtualService', name: target.virtualService, annotations: vs.metadata?.annotations },
          { kind: 'Deployment', name: target.canary.deployment, annotations: canary.metadata?.annotations },
        ]);
      }
      if (problem) throw new CanarybotError('PREFLIGHT_FAILED', `spec.gitops.sync: ${resource.kind} ${resource.namespace}/${resource.name} would revert canarybot's changes: ${problem}`);
    },

    async sync(release, revision, image): Promise<GitOpsAnswer> {
      const sync = syncOf(release);
      const resource = resourceOf(sync);
      const object = await read(release);
      const status = object.status ?? {};
      let state: string;
      let applied: boolean;
      if (sync.controller === 'argocd') {
        const syncStatus = status.sync as { revision?: string; status?: string } | undefined;
        const health = (status.health as { status?: string } | undefined)?.status;
        applied = syncStatus?.revision === revision && syncStatus.status === 'Synced' && health === 'Healthy';
        state = `revision ${syncStatus?.revision?.slice(0, 8) ?? 'none'}, ${syncStatus?.status ?? 'Unknown'}, ${health ?? 'Unknown'}`;
        if (!applied && object.metadata?.annotations?.[ARGOCD_REFRESH] === undefined) await annotate(release, ARGOCD_REFRESH, 'normal');
      } else {
        const ready = ((status.conditions as { type?: string; status?: string }[] | undefined) ?? []).find((condition) => condition.type === 'Ready')?.status;
        const last = appliedRevision(sync.kind, status);
        applied = revisionApplied(sync.kind, last, revision) && ready === 'True';
        state = `${sync.kind === 'HelmRelease' ? 'deployed chart' : 'lastAppliedRevision'} ${last || 'none'}, Ready ${ready ?? 'Unknown'}`;
        if (!applied) {
          const requested = object.metadata?.annotations?.[FLUX_REQUESTED_AT];
          if (requested === undefined || !revisionApplied(sync.kind, last, revision)) await requestFluxReconcile(release, object);
        }
      }
      const rollout = applied ? await stableRunning(release, image) : null;
      if (applied && rollout === null) return { done: true, report: { waiting: { kind: 'sync', sentence: `${resource.kind} ${resource.namespace}/${resource.name} applied ${revision.slice(0, 8)}: ${state}`, link: null } } };
      const sentence = `Waiting for ${resource.kind} ${resource.namespace}/${resource.name} to apply ${revision.slice(0, 8)} (${rollout ?? state}).`;
      const link = release.gitops?.revert?.sha === revision ? release.gitops.revert.url : (release.gitops?.commit?.url ?? null);
      return { done: false, message: rollout ?? state, report: { waiting: { kind: 'sync', sentence, link } } };
    },
  };
}
