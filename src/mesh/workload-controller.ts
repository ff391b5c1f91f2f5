// WorkloadController over apps/v1 Deployments: image by container name and replicas in one JSON
// patch that tests resourceVersion; rollout status by kubectl's rule. Waiting and retrying are the
// core's job (delayed ticks): every call reads or writes once and reports where the rollout stands;
// a conflict surfaces as a transient K8S_CONFLICT for the engine's one effect retry.

import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { CanarybotError } from '../core/errors.js';
import type { ReleaseTarget, RolloutStatus, WorkloadController } from '../core/ports.js';
import { baselineDeployment, isOurBaseline } from './baseline-deployment.js';
import type { ClusterClient, ClusterRegistry } from './cluster-registry.js';
import { FIELD_MANAGER } from './field-manager.js';
import { IstioObjects } from './istio-objects.js';
import { kubeCall } from './kube-call.js';
import { sameHost } from './preflight.js';
import type { JsonPatchOp } from './json-patch-diff.js';
import { rolloutStatus, type DeploymentState } from './rollout-status.js';
import { TenantPolicy } from './tenants.js';

export interface WorkloadOptions {
  tenants?: TenantPolicy;
}

/** Both rollouts together: failed if either failed, progressing if either is, ready when both are. */
function bothRollouts(canary: RolloutStatus, baseline: RolloutStatus): RolloutStatus {
  if (canary.state === 'failed') return canary;
  if (baseline.state === 'failed') return { state: 'failed', message: `baseline: ${baseline.message}` };
  if (canary.state === 'progressing') return canary;
  if (baseline.state === 'progressing') return { state: 'progressing', message: `baseline: ${baseline.message}` };
  return { state: 'ready' };
}

export class KubeWorkloadController implements WorkloadController {
  private readonly tenants: TenantPolicy;

  constructor(
    private readonly registry: ClusterRegistry,
    options: WorkloadOptions = {},
  ) {
    this.tenants = options.tenants ?? TenantPolicy.unrestricted();
  }

  /** The canary with the new image, and with target.baseline the baseline with the stable image, both at the canary's size. */
  async ensureCanary(target: ReleaseTarget, image: string, replicas?: number): Promise<RolloutStatus> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    let count = replicas ?? target.canary.replicas;
    if (count === undefined) {
      const stable = await this.read(client, target.namespace, target.stable.deployment);
      count = stable.spec?.replicas ?? 1;
    }
    const canary = await this.ensure(client, target.namespace, target.canary.deployment, target.canary.container, image, count);
    if (!target.baseline) return canary;
    return bothRollouts(canary, await this.ensureBaseline(client, target, count));
  }

  /** Create the baseline from the stable Deployment, or bring an existing one to the stable image and the canary's size. */
  private async ensureBaseline(client: ClusterClient, target: ReleaseTarget, replicas: number): Promise<RolloutStatus> {
    const { namespace } = target;
    const name = target.baseline!.deployment;
    const container = target.stable.container || target.canary.container;
    const stable = await this.read(client, namespace, target.stable.deployment);
    const image = stable.spec?.template.spec?.containers.find((candidate) => candidate.name === container)?.image;
    if (!image) throw new CanarybotError('PREFLIGHT_FAILED', `Deployment ${target.stable.deployment} has no container named ${container} with an image`);
    const existing = await this.readIfExists(client, namespace, name);
    if (existing) return this.ensure(client, namespace, name, container, image, replicas);
    const body = baselineDeployment(target, stable, await this.baselineSubsetLabels(client, target), replicas);
    try {
      const created = await kubeCall(`create Deployment ${name} in namespace ${namespace}`, () =>
        client.apps.createNamespacedDeployment({ namespace, body, fieldManager: FIELD_MANAGER }),
      );
      return rolloutStatus(created as DeploymentState);
    } catch (error) {
      // Another replica created it first (409 AlreadyExists): use it.
      if (error instanceof CanarybotError && error.code === 'K8S_CONFLICT') return this.ensure(client, namespace, name, container, image, replicas);
      throw error;
    }
  }

  private async baselineSubsetLabels(client: ClusterClient, target: ReleaseTarget): Promise<Record<string, string>> {
    const rules = await new IstioObjects(client).listDestinationRules(target.namespace);
    const subset = rules.find((rule) => sameHost(rule.spec.host, target.host))?.spec.subsets?.find((candidate) => candidate.name === target.baseline!.subset);
    if (!subset?.labels || Object.keys(subset.labels).length === 0) {
      throw new CanarybotError('PREFLIGHT_FAILED', `no DestinationRule subset ${target.baseline!.subset} with labels for host ${target.host} in namespace ${target.namespace}`);
    }
    return subset.labels;
  }

  /** The baseline leaves with the canary: deleted when canarybot created it, else scaled like the canary. */
  private async retireBaseline(client: ClusterClient, target: ReleaseTarget, replicas: number): Promise<void> {
    const { namespace } = target;
    const name = target.baseline!.deployment;
    const existing = await this.readIfExists(client, namespace, name);
    if (!existing) return;
    if (replicas === 0 && isOurBaseline(existing)) {
      await kubeCall(`delete Deployment ${name} in namespace ${namespace}`, () => client.apps.deleteNamespacedDeployment({ name, namespace })).catch((error: unknown) => {
        if (!(error instanceof CanarybotError && error.code === 'K8S_NOT_FOUND')) throw error;
      });
      return;
    }
    if (existing.spec?.replicas === replicas) return;
    await kubeCall(`scale Deployment ${name} in namespace ${namespace}`, () =>
      client.apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }

  private async readIfExists(client: ClusterClient, namespace: string, name: string): Promise<V1Deployment | null> {
    try {
      return await this.read(client, namespace, name);
    } catch (error) {
      if (error instanceof CanarybotError && error.code === 'K8S_NOT_FOUND') return null;
      throw error;
    }
  }

  async ensureStable(target: ReleaseTarget, image: string): Promise<RolloutStatus> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    const container = target.stable.container || target.canary.container;
    return this.ensure(client, target.namespace, target.stable.deployment, container, image, undefined);
  }

  /** The stable container's image as it is now: a read only, recorded at preflight so a rollback can restore it. */
  async currentStableImage(target: ReleaseTarget): Promise<string> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    const name = target.stable.deployment;
    const container = target.stable.container || target.canary.container;
    const current = await this.read(client, target.namespace, name);
    const image = current.spec?.template.spec?.containers.find((candidate) => candidate.name === container)?.image;
    if (image === undefined || image === '') {
      throw new CanarybotError('PREFLIGHT_FAILED', `Deployment ${name} in namespace ${target.namespace} has no container named ${container} with an image`);
    }
    return image;
  }

  async scaleCanary(target: ReleaseTarget, replicas: number): Promise<void> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    const { namespace } = target;
    const name = target.canary.deployment;
    const current = await this.read(client, namespace, name);
    if (current.spec?.replicas !== replicas) {
      await kubeCall(`scale Deployment ${name} in namespace ${namespace}`, () =>
        client.apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      );
    }
    if (target.baseline) await this.retireBaseline(client, target, replicas);
  }

  private read(client: ClusterClient, namespace: string, name: string): Promise<V1Deployment> {
    return kubeCall(`read Deployment ${name} in namespace ${namespace} on cluster ${client.cluster}`, () =>
      client.apps.readNamespacedDeployment({ name, namespace }),
    );
  }

  private async ensure(
    client: ClusterClient,
    namespace: string,
    name: string,
    container: string,
    image: string,
    replicas: number | undefined,
  ): Promise<RolloutStatus> {
    const current = await this.read(client, namespace, name);
    const containers = current.spec?.template.spec?.containers ?? [];
    const index = containers.findIndex((candidate) => candidate.name === container);
    if (index < 0) throw new CanarybotError('PREFLIGHT_FAILED', `Deployment ${name} has no container named ${container}`);
    const ops: JsonPatchOp[] = [];
    if (containers[index]?.image !== image) ops.push({ op: 'replace', path: `/spec/template/spec/containers/${index}/image`, value: image });
    if (replicas !== undefined && current.spec?.replicas !== replicas) ops.push({ op: 'add', path: '/spec/replicas', value: replicas });
    if (ops.length === 0) return rolloutStatus(current as DeploymentState);
    const patch: JsonPatchOp[] = [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion }, ...ops];
    // A conflict (the Deployment moved on since the read) is a transient K8S_CONFLICT: the engine retries the effect.
    const written = await kubeCall(`patch Deployment ${name} in namespace ${namespace}`, () =>
      client.apps.patchNamespacedDeployment({ name, namespace, body: patch, fieldManager: FIELD_MANAGER }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
    );
    return rolloutStatus(written as DeploymentState);
  }
}
