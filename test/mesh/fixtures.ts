// Objects of the bookinfo `reviews` service used across the mesh tests.

export const NS = 'bookinfo';

export interface VirtualServiceFixture {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { hosts: string[]; http: Record<string, unknown>[]; [key: string]: unknown };
}

export function virtualService(extra: Record<string, unknown> = {}): VirtualServiceFixture {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: NS },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          name: 'primary',
          route: [{ destination: { host: 'reviews', subset: 'stable' }, weight: 100 }],
          ...extra,
        },
      ],
    },
  };
}

export function destinationRule(subsets: { name: string; labels: Record<string, string> }[] = [
  { name: 'stable', labels: { app: 'reviews', track: 'stable' } },
  { name: 'canary', labels: { app: 'reviews', track: 'canary' } },
]) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: NS },
    spec: { host: 'reviews', subsets },
  };
}

export function deployment(name: string, track: string, replicas: number, image = 'registry.example.com/bookinfo/reviews:v1') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'reviews', track } },
      template: {
        metadata: { labels: { app: 'reviews', track } },
        spec: { containers: [{ name: 'reviews', image }, { name: 'sidecar', image: 'proxy:1' }] },
      },
    },
  };
}

/** The Service behind the `reviews` host: one port named http (Istio routes it as HTTP). */
export function service(ports: { name?: string; port: number; appProtocol?: string }[] = [{ name: 'http', port: 9080 }]) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'reviews', namespace: NS },
    spec: { selector: { app: 'reviews' }, ports },
  };
}

/** The bookinfo namespace with Istio sidecar injection on. */
export function namespace(labels: Record<string, string> = { 'istio-injection': 'enabled' }) {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels } };
}
