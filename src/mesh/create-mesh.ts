import { ClusterRegistry } from './cluster-registry.js';
import { TenantPolicy } from './tenants.js';
import { KubeClusterEvents } from './release-events.js';
import { IstioTrafficRouter } from './traffic-router.js';
import { KubeWorkloadController } from './workload-controller.js';

export interface Mesh {
  registry: ClusterRegistry;
  tenants: TenantPolicy;
  router: IstioTrafficRouter;
  workloads: KubeWorkloadController;
  events: KubeClusterEvents;
}

/** The mesh adapters from the environment: KUBECONFIG (else in-cluster) and TENANTS_FILE. */
export function createMesh(env: NodeJS.ProcessEnv = process.env): Mesh {
  const registry = ClusterRegistry.fromEnvironment(env);
  const tenants = TenantPolicy.fromEnvironment(env);
  return {
    registry,
    tenants,
    router: new IstioTrafficRouter(registry, { tenants }),
    workloads: new KubeWorkloadController(registry, { tenants }),
    events: new KubeClusterEvents(registry),
  };
}
