// Kubernetes Events (events.k8s.io/v1) on the objects canarybot changes, so `kubectl describe` and
// Argo CD's resource view say what canarybot did and why. An Event is a courtesy: any failure is
// logged and dropped, never retried and never thrown into a release.

import type { ClusterEvent, ClusterEventRecorder, ReleaseTarget } from '../core/ports.js';
import type { ClusterRegistry } from './cluster-registry.js';
import { FIELD_MANAGER } from './field-manager.js';
import { ISTIO_GROUP, istioVersion } from './istio-version.js';

/** Events group by this controller name in `kubectl get events` (reportingController). */
export const REPORTING_CONTROLLER = 'canarybot.io/canarybot';

export interface EventOptions {
  /** reportingInstance: this replica (default the host name). */
  instance?: string;
}

let sequence = 0;

/** Unique per write, like client-go's `<object>.<hex time>`. */
function eventName(object: string, now: number): string {
  sequence = (sequence + 1) % 0x10000;
  return `${object}.${now.toString(16)}${sequence.toString(16).padStart(4, '0')}`;
}

export class KubeClusterEvents implements ClusterEventRecorder {
  private readonly instance: string;

  constructor(
    private readonly registry: ClusterRegistry,
    private readonly options: EventOptions = {},
  ) {
    this.instance = (options.instance ?? process.env.HOSTNAME ?? 'canarybot').slice(0, 128);
  }

  /** Writes one Event per object; throws the first failure after trying them all (the executor logs and drops it). */
  async record(target: ReleaseTarget, event: ClusterEvent): Promise<void> {
    let failure: unknown = null;
    for (const which of event.regarding) {
      try {
        await this.write(target, event, which);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
  }

  private async write(target: ReleaseTarget, event: ClusterEvent, which: ClusterEvent['regarding'][number]): Promise<void> {
    const client = this.registry.client(target.cluster);
    const regarding =
      which === 'virtual-service'
        ? { apiVersion: `${ISTIO_GROUP}/${await istioVersion(client)}`, kind: 'VirtualService', name: target.virtualService, namespace: target.namespace }
        : { apiVersion: 'apps/v1', kind: 'Deployment', name: which === 'stable' ? target.stable.deployment : target.canary.deployment, namespace: target.namespace };
    const now = Date.now();
    await client.events.createNamespacedEvent({
      namespace: target.namespace,
      fieldManager: FIELD_MANAGER,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: eventName(regarding.name, now), namespace: target.namespace },
        // MicroTime: RFC 3339 with six fractional digits.
        eventTime: new Date(now).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as never,
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.instance,
        action: event.reason,
        reason: event.reason,
        type: event.type,
        note: truncate(event.note, 1024),
        regarding,
      },
    });
  }
}

function truncate(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = text;
  while (Buffer.byteLength(`${out}…`) > bytes) out = out.slice(0, -1);
  return `${out}…`;
}
