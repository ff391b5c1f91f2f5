// Reading and patching Istio objects on one cluster, in the networking.istio.io version it serves.

import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CanarybotError } from '../core/errors.js';
import type { ClusterClient } from './cluster-registry.js';
import { FIELD_MANAGER } from './field-manager.js';
import { ISTIO_GROUP, istioVersion } from './istio-version.js';
import { kubeCall } from './kube-call.js';
import type { JsonPatchOp } from './json-patch-diff.js';
import { destinationRuleSchema, virtualServiceSchema, type DestinationRuleObject } from './schema.js';
import type { VirtualServiceObject } from './virtual-service-types.js';

function checked<T>(kind: string, name: string, schema: { safeParse(value: unknown): { success: boolean } }, value: unknown): T {
  if (!schema.safeParse(value).success) {
    throw new CanarybotError('K8S_INVALID', `${kind} ${name} has an unexpected shape (no metadata.name or spec)`);
  }
  // The original object, not the parse result: fields are kept exactly as the API server sent them.
  return value as T;
}

export class IstioObjects {
  constructor(private readonly client: ClusterClient) {}

  private where(namespace: string): string {
    return `in namespace ${namespace} on cluster ${this.client.cluster}`;
  }

  async getVirtualService(namespace: string, name: string): Promise<VirtualServiceObject> {
    const version = await istioVersion(this.client);
    const body: unknown = await kubeCall(`read VirtualService ${name} ${this.where(namespace)}`, () =>
      this.client.custom.getNamespacedCustomObject({ group: ISTIO_GROUP, version, namespace, plural: 'virtualservices', name }),
    );
    return checked<VirtualServiceObject>('VirtualService', name, virtualServiceSchema, body);
  }

  async patchVirtualService(namespace: string, name: string, patch: JsonPatchOp[]): Promise<void> {
    const version = await istioVersion(this.client);
    await kubeCall(`patch VirtualService ${name} ${this.where(namespace)}`, () =>
      this.client.custom.patchNamespacedCustomObject(
        { group: ISTIO_GROUP, version, namespace, plural: 'virtualservices', name, body: patch, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
  }

  async listDestinationRules(namespace: string): Promise<DestinationRuleObject[]> {
    const version = await istioVersion(this.client);
    const list = (await kubeCall(`list DestinationRules ${this.where(namespace)}`, () =>
      this.client.custom.listNamespacedCustomObject({ group: ISTIO_GROUP, version, namespace, plural: 'destinationrules' }),
    )) as { items?: unknown[] };
    return (list.items ?? []).map((item) =>
      checked<DestinationRuleObject>('DestinationRule', String((item as { metadata?: { name?: unknown } }).metadata?.name ?? '?'), destinationRuleSchema, item),
    );
  }
}
