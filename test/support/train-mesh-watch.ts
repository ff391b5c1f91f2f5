// Watches the Bookinfo train's mesh on the Kubernetes API test server: after every write, what
// changed (canary ready/scaled down, lane route added/removed, entry open/closed) as short events in
// order, and every broken invariant (weights not summing to 100, traffic to a canary subset without
// ready endpoints).

import { TRAIN_NAMESPACE, TRAIN_SERVICES } from '../../src/demo/bookinfo-train.js';
import type { KubeApiServer } from './kube-api-server.js';

interface HttpRoute {
  name?: string;
  route?: Array<{ destination: { subset?: string }; weight?: number }>;
}

/** What the mesh looked like after each write, as short events in order, and every broken invariant. */
export class MeshWatch {
  readonly events: string[] = [];
  readonly violations: string[] = [];
  private readonly laneOpen = new Set<string>();
  private readonly ready = new Set<string>();
  private readonly scaled = new Set<string>();
  private entryOpen = false;

  constructor(private readonly kube: KubeApiServer) {
    kube.afterWrite = (write) => this.onWrite(write);
  }

  private canaryReady(service: string): boolean {
    const status = (this.kube.object('Deployment', TRAIN_NAMESPACE, `${service}-canary`)?.status ?? {}) as { readyReplicas?: number };
    return (status.readyReplicas ?? 0) > 0;
  }

  private onWrite(write: { kind: string; name: string | undefined }): void {
    for (const service of TRAIN_SERVICES) {
      const ready = this.canaryReady(service);
      if (ready && !this.ready.has(service)) this.events.push(`${service} canary ready`);
      if (ready) this.ready.add(service);
      const replicas = (this.kube.object('Deployment', TRAIN_NAMESPACE, `${service}-canary`)?.spec as { replicas?: number }).replicas ?? 0;
      if (replicas > 0) this.scaled.add(service);
      if (replicas === 0 && this.scaled.delete(service)) this.events.push(`${service} canary scaled to 0`);
    }
    if (write.kind !== 'VirtualService' || !write.name) return;
    const service = write.name;
    const http = ((this.kube.object('VirtualService', TRAIN_NAMESPACE, service)?.spec ?? {}) as { http?: HttpRoute[] }).http ?? [];
    for (const route of http) {
      const destinations = route.route ?? [];
      const sum = destinations.reduce((total, d) => total + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0);
      if (sum !== 100) this.violations.push(`${service} route ${route.name}: weights sum to ${sum}`);
      for (const destination of destinations) {
        if (destination.destination.subset === 'canary' && (destination.weight ?? 100) > 0 && !this.canaryReady(service)) {
          this.violations.push(`${service} route ${route.name} sends traffic to the canary subset without ready endpoints`);
        }
      }
    }
    const lane = http.some((route) => route.name === `canarybot-${service}-lane`);
    if (service === 'productpage') {
      if (lane && !this.entryOpen) this.events.push('entry open');
      if (!lane && this.entryOpen) this.events.push('entry closed');
      this.entryOpen = lane;
      return;
    }
    if (lane && !this.laneOpen.has(service)) this.events.push(`${service} lane route`);
    if (!lane && this.laneOpen.has(service)) this.events.push(`${service} lane route removed`);
    if (lane) this.laneOpen.add(service);
    else this.laneOpen.delete(service);
  }
}
