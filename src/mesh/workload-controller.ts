// WorkloadController over apps/v1 Deployments: image by container name and replicas in one JSON
// patch that tests resourceVersion; rollout status by kubectl's rule. Waiting is the core's job
// (delayed ticks): every call reads or writes once and reports where the rollout stands.

import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { CanarybotError } from '../core/errors.js';
import type { ReleaseTarget, RolloutStatus, WorkloadController } from '../core/ports.js';
import type { ClusterClient, ClusterRegistry } from './cluster-registry.js';
import { DEFAULT_RETRY, kubeCall, type RetryPolicy } from './kube-call.js';
import type { JsonPatchOp } from './json-patch-diff.js';
import { rolloutStatus, type DeploymentState } from './rollout-status.js';
import { TenantPolicy } from './tenants.js';

export interface WorkloadOptions {
  tenants?: TenantPolicy;
  retry?: RetryPolicy;
  maxConflictRounds?: number;
}

export class KubeWorkloadController implements WorkloadController {
  private readonly tenants: TenantPolicy;
  private readonly retry: RetryPolicy;
  private readonly maxRounds: number;

  constructor(
    private readonly registry: ClusterRegistry,
    options: WorkloadOptions = {},
  ) {
    this.tenants = options.tenants ?? TenantPolicy.unrestricted();
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.maxRounds = options.maxConflictRounds ?? 5;
  }

  async ensureCanary(target: ReleaseTarget, image: string, replicas?: number): Promise<RolloutStatus> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    let count = replicas ?? target.canary.replicas;
    if (count === undefined) {
      const stable = await this.read(client, target.namespace, target.stable.deployment);
      count = stable.spec?.replicas ?? 1;
    }
    return this.ensure(client, target.namespace, target.canary.deployment, target.canary.container, image, count);
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
    if (current.spec?.replicas === replicas) return;
    await kubeCall(`scale Deployment ${name} in namespace ${namespace}`, this.retry, () =>
      client.apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  private read(client: ClusterClient, namespace: string, name: string): Promise<V1Deployment> {
    return kubeCall(`read Deployment ${name} in namespace ${namespace} on cluster ${client.cluster}`, this.retry, () =>
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
    for (let round = 1; round <= this.maxRounds; round += 1) {
      const current = await this.read(client, namespace, name);
      const containers = current.spec?.template.spec?.containers ?? [];
      const index = containers.findIndex((candidate) => candidate.name === container);
      if (index < 0) throw new CanarybotError('PREFLIGHT_FAILED', `Deployment ${name} has no container named ${container}`);
      const ops: JsonPatchOp[] = [];
      if (containers[index]?.image !== image) ops.push({ op: 'replace', path: `/spec/template/spec/containers/${index}/image`, value: image });
      if (replicas !== undefined && current.spec?.replicas !== replicas) ops.push({ op: 'add', path: '/spec/replicas', value: replicas });
      if (ops.length === 0) return rolloutStatus(current as DeploymentState);
      const patch: JsonPatchOp[] = [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion }, ...ops];
      try {
        const written = await kubeCall(`patch Deployment ${name} in namespace ${namespace}`, this.retry, () =>
          client.apps.patchNamespacedDeployment({ name, namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
        );
        return rolloutStatus(written as DeploymentState);
      } catch (error) {
        if (error instanceof CanarybotError && error.code === 'K8S_CONFLICT') continue;
        throw error;
      }
    }
    throw new CanarybotError('K8S_CONFLICT', `Deployment ${name} in namespace ${namespace} kept changing during ${this.maxRounds} write attempts`);
  }
}
