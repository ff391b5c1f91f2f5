// TrafficRouter over Istio: read the VirtualService, compute the desired object (pure), and write
// only the difference with a JSON patch that tests resourceVersion; on conflict re-read and re-apply.

import { CanarybotError } from '../core/errors.js';
import type { ReleaseTarget, TrafficRouter } from '../core/ports.js';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import type { ClusterRegistry } from './cluster-registry.js';
import { IstioObjects } from './istio-objects.js';
import { DEFAULT_RETRY, httpStatus, kubeCall, type RetryPolicy } from './kube-call.js';
import { baselineProblems, sameHost, subsetProblems, type DeploymentShape } from './preflight.js';
import { TenantPolicy } from './tenants.js';
import { desiredVirtualService } from './virtual-service.js';
import { virtualServicePatch } from './virtual-service-patch.js';

export interface RouterOptions {
  tenants?: TenantPolicy;
  retry?: RetryPolicy;
  /** Read-compute-write rounds before a persisting conflict is given up (transient K8S_CONFLICT). */
  maxConflictRounds?: number;
}

/** Default wait after a traffic change before metrics are read or the canary is scaled down (§9 Settle); the core schedules it. */
export const DEFAULT_SETTLE_MS = 5000;

export class IstioTrafficRouter implements TrafficRouter {
  private readonly tenants: TenantPolicy;
  private readonly retry: RetryPolicy;
  private readonly maxRounds: number;

  constructor(
    private readonly registry: ClusterRegistry,
    options: RouterOptions = {},
  ) {
    this.tenants = options.tenants ?? TenantPolicy.unrestricted();
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.maxRounds = options.maxConflictRounds ?? 5;
  }

  async preflight(target: ReleaseTarget): Promise<void> {
    this.tenants.check(target);
    const client = this.registry.client(target.cluster);
    const istio = new IstioObjects(client, this.retry);
    const where = `in namespace ${target.namespace} on cluster ${target.cluster}`;
    const vs = await istio.getVirtualService(target.namespace, target.virtualService).catch((error: unknown) => {
      throw notFoundAs(error, `VirtualService ${target.virtualService} not found ${where}`);
    });
    desiredVirtualService(vs, target, ALL_STABLE);

    const rules = await istio.listDestinationRules(target.namespace);
    const rule = rules.find((candidate) => sameHost(candidate.spec.host, target.host));
    if (!rule) throw new CanarybotError('PREFLIGHT_FAILED', `no DestinationRule for host ${target.host} ${where}`);

    const read = async (name: string): Promise<DeploymentShape> => {
      try {
        return await kubeCall(`read Deployment ${name} ${where}`, this.retry, () => client.apps.readNamespacedDeployment({ name, namespace: target.namespace }));
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
    const problems = [...subsetProblems(target, rule, deployments), ...baselineProblems(target, rule, { ...deployments, baseline })];
    if (problems.length > 0) throw new CanarybotError('PREFLIGHT_FAILED', problems.join('; '));
  }

  async setTraffic(target: ReleaseTarget, traffic: TrafficState): Promise<void> {
    this.tenants.check(target);
    const istio = new IstioObjects(this.registry.client(target.cluster), this.retry);
    const { namespace, virtualService: name } = target;
    for (let round = 1; round <= this.maxRounds; round += 1) {
      const current = await istio.getVirtualService(namespace, name);
      const patch = virtualServicePatch(current, desiredVirtualService(current, target, traffic));
      if (!patch) return;
      try {
        await istio.patchVirtualService(namespace, name, patch);
        return;
      } catch (error) {
        if (error instanceof CanarybotError && error.code === 'K8S_CONFLICT') continue;
        // A real API server answers a failed `test` with 422: a conflict when the object moved on.
        if (httpStatus(error) === 422) {
          const again = await istio.getVirtualService(namespace, name);
          if (again.metadata.resourceVersion !== current.metadata.resourceVersion) continue;
        }
        throw error;
      }
    }
    throw new CanarybotError('K8S_CONFLICT', `VirtualService ${name} in namespace ${namespace} kept changing during ${this.maxRounds} write attempts`);
  }
}

function notFoundAs(error: unknown, message: string): unknown {
  return error instanceof CanarybotError && error.code === 'K8S_NOT_FOUND' ? new CanarybotError('PREFLIGHT_FAILED', message, { cause: error }) : error;
}
