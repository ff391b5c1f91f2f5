// A Kubernetes API test server seeded with the bookinfo `reviews` objects, and the real adapters
// (real @kubernetes/client-node over HTTPS) pointed at it through a kubeconfig.

import type { ReleaseTarget } from '../../src/core/ports.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import type { TenantPolicy } from '../../src/mesh/tenants.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { KubeApiServer, type KubeApiServerOptions } from '../support/kube-api-server.js';
import { reviewsTarget } from '../support/release-fixture.js';
import { deployment, destinationRule, namespace, NS, service, virtualService } from './fixtures.js';

export function target(partial: Partial<ReleaseTarget> = {}): ReleaseTarget {
  return {
    ...reviewsTarget({ namespace: NS, route: 'primary', settleMs: 0 }),
    cluster: 'default',
    service: 'reviews',
    project: 'bookinfo/reviews',
    ...partial,
  };
}

export function seedBookinfo(server: KubeApiServer, vsExtra: Record<string, unknown> = {}): void {
  server.seed(virtualService(vsExtra));
  server.seed(destinationRule());
  server.seed(service());
  server.seed(namespace());
  server.seed(deployment('reviews-primary', 'stable', 3));
  server.seed(deployment('reviews-canary', 'canary', 0));
  server.clearRecord();
}

export interface MeshHarness {
  server: KubeApiServer;
  registry: ClusterRegistry;
  router: IstioTrafficRouter;
  workloads: KubeWorkloadController;
  close(): Promise<void>;
}

export async function startHarness(options: KubeApiServerOptions = {}, tenants?: TenantPolicy): Promise<MeshHarness> {
  const server = await KubeApiServer.start(options);
  const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: server.writeKubeconfig() });
  seedBookinfo(server);
  return {
    server,
    registry,
    router: new IstioTrafficRouter(registry, { tenants }),
    workloads: new KubeWorkloadController(registry, { tenants }),
    close: () => server.close(),
  };
}

/** The VirtualService's http routes as stored. */
export function httpRoutes(server: KubeApiServer): Record<string, unknown>[] {
  return (server.object('VirtualService', NS, 'reviews')?.spec as { http: Record<string, unknown>[] }).http;
}

/** Bodies of the successful PATCHes, in order. */
export function patches(server: KubeApiServer): unknown[] {
  return server.writes().map((write) => write.body);
}
