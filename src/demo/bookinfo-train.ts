// Bookinfo's call chain for the release-train scene: productpage → reviews → ratings, each with a
// stable and a canary Deployment, a DestinationRule and a VirtualService as the Kubernetes
// simulator holds them, and the release pipelines and the train with demo timings.

import type { KubeSeedObject } from './bookinfo.js';
import type { ChainService } from './lane-traffic.js';

export const TRAIN_NAMESPACE = 'bookinfo';
export const TRAIN_SERVICES = ['productpage', 'reviews', 'ratings'] as const;
export const TRAIN_NAME = 'bookinfo-lane';
export const LANE_HEADER = 'x-canary-lane';
export const LANE_VALUE = 'bookinfo-v2';
/** Who the demo's cohort is: beta users, told apart at the entry by this header. */
export const COHORT_HEADER = { 'x-user-group': 'beta' };

export function trainChain(): ChainService[] {
  return TRAIN_SERVICES.map((service) => ({
    service,
    stable: { deployment: `${service}-primary`, subset: 'stable' },
    canary: { deployment: `${service}-canary`, subset: 'canary' },
  }));
}

export function trainImage(service: string, tag: string): string {
  return `registry.example.com/bookinfo/${service}:${tag}`;
}

function deployment(service: string, track: 'stable' | 'canary', replicas: number): KubeSeedObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${service}-${track === 'stable' ? 'primary' : 'canary'}`, namespace: TRAIN_NAMESPACE, labels: { app: service } },
    spec: {
      replicas,
      selector: { matchLabels: { app: service, track } },
      template: { metadata: { labels: { app: service, track } }, spec: { containers: [{ name: service, image: trainImage(service, 'v1') }] } },
    },
  };
}

export function trainKubeSeed(): KubeSeedObject[] {
  const objects: KubeSeedObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TRAIN_NAMESPACE, namespace: TRAIN_NAMESPACE, labels: { 'istio-injection': 'enabled' } }, spec: {} },
  ];
  for (const service of TRAIN_SERVICES) {
    objects.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace: TRAIN_NAMESPACE }, spec: { selector: { app: service }, ports: [{ name: 'http', port: 9080 }] } },
      deployment(service, 'stable', 2),
      deployment(service, 'canary', 0),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: service, namespace: TRAIN_NAMESPACE },
        spec: {
          host: service,
          subsets: [
            { name: 'stable', labels: { app: service, track: 'stable' } },
            { name: 'canary', labels: { app: service, track: 'canary' } },
          ],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: service, namespace: TRAIN_NAMESPACE },
        spec: { hosts: [service], http: [{ name: 'primary', route: [{ destination: { host: service, subset: 'stable' } }], timeout: '3s' }] },
      },
    );
  }
  return objects;
}

/** A member's release pipeline with demo timings (its own steps apply when it is released alone). */
export function trainMemberDefinition(service: string): string {
  return `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: ${service}
spec:
  trigger:
    project: bookinfo/${service}
    image: registry.example.com/bookinfo/${service}
  target:
    namespace: ${TRAIN_NAMESPACE}
    virtualService: ${service}
    route: primary
    host: ${service}
    stable: { subset: stable, deployment: ${service}-primary }
    canary: { subset: canary, deployment: ${service}-canary, container: ${service}, replicas: 1 }
    settle: 0s
    readinessDeadline: 30s
  strategy:
    canary:
      steps:
        - setWeight: 20
        - analysis: {}
        - setWeight: 100
  analysis:
    interval: 1s
    window: 1m
    minRequests: 5
    metrics:
      - name: request-success-rate
        min: 99
`;
}

/** The train: beta users reach the new version of every service. */
export const TRAIN_DEFINITION = `# Written by \`canarybot demo\`: productpage → reviews → ratings released together.
apiVersion: canarybot/v1
kind: ReleaseTrain
metadata:
  name: ${TRAIN_NAME}
spec:
  members: [${TRAIN_SERVICES.join(', ')}]     # the call chain: the entry first, the leaf last
  lane:
    header: ${LANE_HEADER}
    value: ${LANE_VALUE}
    baggage: true                          # or W3C baggage canary-lane=${LANE_VALUE} (OpenTelemetry)
  entry:
    member: productpage
    cohort:
      - headers: { x-user-group: { exact: beta } }
  steps:
    - analysis: { count: 2 }
    - approval: {}
  analysis:
    interval: 1s
    inconclusiveLimit: 2
  promote: ordered
  assembleWindow: 10m
`;
