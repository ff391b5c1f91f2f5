import { CanarybotError } from '../core/errors.js';
import type { ClusterClient } from './cluster-registry.js';
import { kubeCall } from './kube-call.js';

export const ISTIO_GROUP = 'networking.istio.io';
/** Preferred first; v1beta1 is what Istio before 1.22 serves. */
const SUPPORTED = ['v1', 'v1beta1'];

/** The networking.istio.io version to use on this cluster, discovered once per client. */
export function istioVersion(client: ClusterClient): Promise<string> {
  client.istioVersion ??= (async () => {
    const list = await kubeCall(`discover API groups on cluster ${client.cluster}`, () => client.apis.getAPIVersions());
    const served = list.groups.find((group) => group.name === ISTIO_GROUP)?.versions.map((version) => version.version) ?? [];
    const version = SUPPORTED.find((candidate) => served.includes(candidate));
    if (!version) {
      throw new CanarybotError(
        'PREFLIGHT_FAILED',
        `cluster ${client.cluster} serves no ${ISTIO_GROUP} version canarybot supports (${SUPPORTED.join(', ')}); is Istio installed?`,
      );
    }
    return version;
  })().catch((error: unknown) => {
    client.istioVersion = undefined;
    throw error;
  });
  return client.istioVersion;
}
