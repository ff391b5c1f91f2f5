// TrafficRouter over Istio: read the VirtualService, compute the desired object (pure), and write
// only the difference with a JSON patch that tests resourceVersion. A conflict (the object moved on
// between read and write) surfaces as a transient K8S_CONFLICT: the engine's effect retry re-reads
// and re-applies, after a backoff — the one retry layer.

import { CanarybotError } from '../core/errors.js';
import type { ReleaseTarget, TrafficRouter } from '../core/ports.js';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import type { ClusterRegistry } from './cluster-registry.js';
import { IstioObjects } from './istio-objects.js';
import { httpStatus, kubeCall } from './kube-call.js';
import { baselineProblems, sameHost, subsetProblems, type DeploymentShape } from './preflight.js';
import { TenantPolicy } from './tenants.js';
import { bindingProblems, foreignSelectionProblems, servicePortProblems, sidecarProblems } from './mesh-checks.js';
import { readMeshObjects } from './mesh-objects.js';
import { desiredVirtualService, findManagedRoute } from './virtual-service.js';
import { virtualServicePatch } from './virtual-service-patch.js';

export interface RouterOptions {
  tenants?: TenantPolicy;
}

/** Default wait after a traffic change before metrics are read or the canary is scaled down (§9 Settle); the core schedules it. */
export const DEFAULT_SETTLE_MS = 5000;

export class IstioTrafficRouter implements TrafficRouter {
  private readonly tenants: TenantPolicy;

  constructor(
    private readonly registry: ClusterRegistry,
    options: RouterOptions = {},
  ) {
    this.tenants = options.tenants ?? TenantPolicy.unrestricted();
  }

  async preflight(target: ReleaseTarget): Promise<void> {
    const problems = await this.meshProblems(target);
    if (problems.length > 0) throw new CanarybotError('PREFLIGHT_FAILED', problems.join('; '));
  }

  /**
   * Every reason the mesh would not shift this release's traffic, read-only (also `plan --check`).
   * Throws PREFLIGHT_FAILED only when an object the checks need is missing.
   */
  async meshProblems(target: ReleaseTarget): Promise<string[]> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    const istio = new IstioObjects(client);
    const where = `in namespace ${target.namespace} on cluster ${target.cluster}`;
    const vs = await istio.getVirtualService(target.namespace, target.virtualService).catch((error: unknown) => {
      throw notFoundAs(error, `VirtualService ${target.virtualService} not found ${where}: create it, or fix target.virtualService`);
    });
    desiredVirtualService(vs, target, ALL_STABLE);
    const route = (vs.spec.http ?? [])[findManagedRoute(vs, target)];

    const rules = await istio.listDestinationRules(target.namespace);
    const rule = rules.find((candidate) => sameHost(candidate.spec.host, target.host));
    if (!rule) throw new CanarybotError('PREFLIGHT_FAILED', `no DestinationRule for host ${target.host} ${where}: create one with the subsets ${target.stable.subset} and ${target.canary.subset}`);

    const read = async (name: string): Promise<DeploymentShape> => {
      try {
        return await kubeCall(`read Deployment ${name} ${where}`, () => client.apps.readNamespacedDeployment({ name, namespace: target.namespace }));
      } catch (error) {
        throw notFoundAs(error, `Deployment ${name} not found ${where}`);
      }
    };
    const deployments = { stable: await read(target.stable.deployment), canary: await read(target.canary.deployment) };
    // The baseline Deployment may not exist yet: canarybot creates it from stable's template.
    const baseline = target.baseline
      ? await read(target.baseline.deployment).catch((error: unknown) => {
          if (error instanceof CanarybotError && error.code === 'PREFLIGHT_FAILED') return null;
          throw error;
        })
      : null;
    const mesh = await readMeshObjects(client, target);
    const used = [
      { subset: target.stable.subset, deployment: target.stable.deployment },
      { subset: target.canary.subset, deployment: target.canary.deployment },
      ...(target.baseline ? [{ subset: target.baseline.subset, deployment: target.baseline.deployment }] : []),
    ];
    const pods = [
      { name: target.stable.deployment, role: 'stable', deployment: deployments.stable },
      { name: target.canary.deployment, role: 'canary', deployment: deployments.canary },
      ...(target.baseline && baseline ? [{ name: target.baseline.deployment, role: 'baseline', deployment: baseline }] : []),
    ];
    return [
      ...servicePortProblems(target, mesh.service, route),
      ...sidecarProblems(target, mesh.namespace, pods),
      ...subsetProblems(target, rule, deployments),
      ...baselineProblems(target, rule, { ...deployments, baseline }),
      ...foreignSelectionProblems(rule, used, mesh.deployments),
      ...bindingProblems(vs, route, target),
    ];
  }

  async setTraffic(target: ReleaseTarget, traffic: TrafficState): Promise<void> {
    this.tenants.check(target);
    const istio = new IstioObjects(this.registry.client(target.cluster));
    const { namespace, virtualService: name } = target;
    const current = await istio.getVirtualService(namespace, name);
    const patch = virtualServicePatch(current, desiredVirtualService(current, target, traffic));
    if (!patch) return;
    try {
      await istio.patchVirtualService(namespace, name, patch);
    } catch (error) {
      // A real API server answers a failed `test` with 422: a conflict when the object moved on.
      if (httpStatus(error) === 422) {
        const again = await istio.getVirtualService(namespace, name);
        if (again.metadata.resourceVersion !== current.metadata.resourceVersion) {
          throw new CanarybotError('K8S_CONFLICT', `VirtualService ${name} in namespace ${namespace} changed while it was written`, { cause: error });
        }
      }
      throw error;
    }
  }
}

function notFoundAs(error: unknown, message: string): unknown {
  return error instanceof CanarybotError && error.code === 'K8S_NOT_FOUND' ? new CanarybotError('PREFLIGHT_FAILED', message, { cause: error }) : error;
}
