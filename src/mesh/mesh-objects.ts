// The objects the mesh pre-flight reads besides the Istio ones: the Service behind target.host,
// the Namespace (injection labels) and every Deployment of the namespace (foreign subset matches).
// Read-only; a Namespace canarybot may not read (a namespaced Role) is reported as unknown.

import type { ReleaseTarget } from '../core/ports.js';
import type { ClusterClient } from './cluster-registry.js';
import { kubeCall } from './kube-call.js';
import { serviceName, serviceNamespace, type NamespaceShape, type PodTemplateDeployment, type ServiceShape } from './mesh-checks.js';
import { CanarybotError } from '../core/errors.js';

export interface MeshObjects {
  service: ServiceShape | null;
  namespace: NamespaceShape | null;
  deployments: PodTemplateDeployment[];
}

async function orNull<T>(call: Promise<T>, codes: string[]): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof CanarybotError && codes.includes(error.code)) return null;
    throw error;
  }
}

export async function readMeshObjects(client: ClusterClient, target: ReleaseTarget): Promise<MeshObjects> {
  const where = `on cluster ${target.cluster}`;
  const name = serviceName(target.host);
  const namespace = serviceNamespace(target.host, target.namespace);
  const service = await orNull(
    kubeCall(`read Service ${name} in namespace ${namespace} ${where}`, () => client.core.readNamespacedService({ name, namespace })),
    ['K8S_NOT_FOUND'],
  );
  const ns = await orNull(
    kubeCall(`read Namespace ${target.namespace} ${where}`, () => client.core.readNamespace({ name: target.namespace })),
    ['K8S_FORBIDDEN'],
  );
  const list = await kubeCall(`list Deployments in namespace ${target.namespace} ${where}`, () =>
    client.apps.listNamespacedDeployment({ namespace: target.namespace }),
  );
  return { service: service as ServiceShape | null, namespace: ns as NamespaceShape | null, deployments: list.items as PodTemplateDeployment[] };
}
