// The object store of the Kubernetes API test server: one resourceVersion counter for all writes,
// generation bumps on spec changes, schema validation of Istio kinds, and the Deployment rollout stand-in.

import { randomUUID } from 'node:crypto';
import { recordManager } from './managed-fields.js';
import { validateIstioObject, type IstioKind } from './istio-validation.js';
import { completeStatus, deadlineExceededStatus, progressingStatus, templateHash, type DeploymentLike } from './rollout.js';
import { validateService } from './service.js';
import { alreadyExists, conflict, invalid, notFound, type ResourceRef } from './status.js';

export type Obj = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; namespace?: string } };

export interface Kind {
  plural: 'deployments' | 'virtualservices' | 'destinationrules' | 'pods' | 'events' | 'applications' | 'kustomizations' | 'helmreleases' | 'gitrepositories' | 'services' | 'namespaces';
  group: string;
  kind: string;
  versions: string[];
  /** Cluster-scoped kinds (Namespace) are stored under the namespace ''. */
  clusterScoped?: boolean;
}

export const KINDS: Record<Kind['plural'], Kind> = {
  deployments: { plural: 'deployments', group: 'apps', kind: 'Deployment', versions: ['v1'] },
  virtualservices: { plural: 'virtualservices', group: 'networking.istio.io', kind: 'VirtualService', versions: ['v1', 'v1beta1', 'v1alpha3'] },
  destinationrules: { plural: 'destinationrules', group: 'networking.istio.io', kind: 'DestinationRule', versions: ['v1', 'v1beta1', 'v1alpha3'] },
  pods: { plural: 'pods', group: '', kind: 'Pod', versions: ['v1'] },
  // Stored in the core/v1 shape; events.k8s.io/v1 is a second view of the same objects (kube/events.ts).
  events: { plural: 'events', group: '', kind: 'Event', versions: ['v1'] },
  applications: { plural: 'applications', group: 'argoproj.io', kind: 'Application', versions: ['v1alpha1'] },
  kustomizations: { plural: 'kustomizations', group: 'kustomize.toolkit.fluxcd.io', kind: 'Kustomization', versions: ['v1'] },
  helmreleases: { plural: 'helmreleases', group: 'helm.toolkit.fluxcd.io', kind: 'HelmRelease', versions: ['v2'] },
  gitrepositories: { plural: 'gitrepositories', group: 'source.toolkit.fluxcd.io', kind: 'GitRepository', versions: ['v1'] },
  services: { plural: 'services', group: '', kind: 'Service', versions: ['v1'] },
  namespaces: { plural: 'namespaces', group: '', kind: 'Namespace', versions: ['v1'], clusterScoped: true },
};

/** Custom resources served under /apis/<group>/<version>/namespaces/<ns>/<plural> besides Istio's. */
export const CUSTOM_KINDS: readonly Kind[] = [KINDS.applications, KINDS.kustomizations, KINDS.helmreleases, KINDS.gitrepositories];

export function isIstio(kind: Kind): boolean {
  return kind.group === 'networking.istio.io';
}

export interface RolloutSettings {
  delayMs: number;
  failing: Set<string>;
}

export class ObjectStore {
  private readonly objects = new Map<string, Obj>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private version = 100;

  constructor(private readonly rollout: RolloutSettings) {}

  private key(kind: Kind, namespace: string, name: string): string {
    return `${kind.plural}/${namespace}/${name}`;
  }

  ref(kind: Kind, name: string): ResourceRef {
    return { group: kind.group, plural: kind.plural, name };
  }

  get(kind: Kind, namespace: string, name: string): Obj | undefined {
    const object = this.objects.get(this.key(kind, namespace, name));
    return object ? structuredClone(object) : undefined;
  }

  mustGet(kind: Kind, namespace: string, name: string): Obj {
    const object = this.get(kind, namespace, name);
    if (!object) throw notFound(this.ref(kind, name));
    return object;
  }

  list(kind: Kind, namespace: string): Obj[] {
    const prefix = `${kind.plural}/${namespace}/`;
    return [...this.objects.entries()].filter(([key]) => key.startsWith(prefix)).map(([, object]) => structuredClone(object));
  }

  currentVersion(): string {
    return String(this.version);
  }

  /**
   * Store `next` as the new state of the object. `expectVersion` is the resourceVersion the caller
   * based its change on (undefined: unconditional). Throws 409/422 Status errors.
   */
  write(kind: Kind, namespace: string, next: Obj, options: { expectVersion?: string; create?: boolean; statusOnly?: boolean; manager?: string; operation?: string; subresource?: string }): Obj {
    const name = next.metadata.name;
    const current = this.objects.get(this.key(kind, namespace, name));
    if (!options.create && !current) throw notFound(this.ref(kind, name));
    if (options.create && current) throw alreadyExists(this.ref(kind, name));
    if (options.expectVersion !== undefined && current && options.expectVersion !== current.metadata.resourceVersion) {
      throw conflict(this.ref(kind, name));
    }
    const stored = structuredClone(next);
    delete stored.apiVersion;
    if (current) {
      // The main resource never changes status, the status subresource changes nothing else.
      if (options.statusOnly) Object.assign(stored, { ...current, status: stored.status });
      else if (current.status !== undefined) stored.status = current.status;
      else delete stored.status;
      stored.metadata = { ...stored.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp };
    } else {
      stored.metadata = { ...stored.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
    }
    if (kind.clusterScoped) delete stored.metadata.namespace;
    else stored.metadata.namespace = namespace;
    if (kind.plural === 'services') {
      const causes = validateService(stored as { spec?: unknown });
      if (causes.length > 0) throw invalid(this.ref(kind, name), kind.kind, causes);
    }
    const specChanged = !current || JSON.stringify(current.spec) !== JSON.stringify(stored.spec);
    const generation = typeof current?.metadata.generation === 'number' ? current.metadata.generation : 0;
    stored.metadata.generation = specChanged ? generation + 1 : generation;
    if (kind.plural === 'deployments') {
      const replicas = (stored.spec as { replicas?: unknown } | undefined)?.replicas;
      if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
        throw invalid(this.ref(kind, name), kind.kind, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
      }
    }
    if (isIstio(kind)) {
      const causes = validateIstioObject(kind.kind as IstioKind, stored);
      if (causes.length > 0) throw invalid(this.ref(kind, name), kind.kind, causes);
    }
    if (options.manager !== undefined) {
      stored.metadata.managedFields = recordManager(current, stored, { manager: options.manager, operation: options.operation ?? 'Update', apiVersion: kind.group === '' ? 'v1' : `${kind.group}/${kind.versions[0]}`, subresource: options.subresource ?? (options.statusOnly ? 'status' : undefined) });
    } else if (current?.metadata.managedFields !== undefined) stored.metadata.managedFields = current.metadata.managedFields;
    else delete stored.metadata.managedFields;
    if (kind.plural === 'deployments' && specChanged && !options.statusOnly) {
      stored.status = progressingStatus(stored as DeploymentLike, current as DeploymentLike | undefined);
      this.scheduleRollout(kind, namespace, name);
    }
    return this.commit(kind, namespace, stored);
  }

  delete(kind: Kind, namespace: string, name: string): Obj {
    const key = this.key(kind, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(this.ref(kind, name));
    this.objects.delete(key);
    clearTimeout(this.timers.get(key));
    this.version += 1;
    return current;
  }

  private commit(kind: Kind, namespace: string, object: Obj): Obj {
    this.version += 1;
    object.metadata.resourceVersion = String(this.version);
    this.objects.set(this.key(kind, namespace, object.metadata.name), object);
    return structuredClone(object);
  }

  private scheduleRollout(kind: Kind, namespace: string, name: string): void {
    const key = this.key(kind, namespace, name);
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => this.finishRollout(kind, namespace, name), this.rollout.delayMs));
  }

  /** End a Deployment's pending rollout now (complete, or ProgressDeadlineExceeded when set to fail). */
  finishRollout(kind: Kind, namespace: string, name: string): void {
    const key = this.key(kind, namespace, name);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const deployment = this.objects.get(key) as DeploymentLike | undefined;
    if (!deployment) return;
    const failing = this.rollout.failing.has(`${namespace}/${name}`);
    const status = failing ? deadlineExceededStatus(deployment) : completeStatus(deployment);
    this.commit(kind, namespace, { ...structuredClone(deployment), status } as Obj);
  }

  /** Pods the Deployments in `namespace` would run (status.replicas of each), plus seeded pods. */
  pods(namespace: string): Obj[] {
    const synthesized = this.list(KINDS.deployments, namespace).flatMap((object) => {
      const deployment = object as DeploymentLike;
      const template = (deployment.spec.template ?? {}) as { metadata?: { labels?: Record<string, string> }; spec?: unknown };
      const hash = templateHash(deployment);
      const count = typeof deployment.status?.replicas === 'number' ? deployment.status.replicas : 0;
      return Array.from({ length: count }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${deployment.metadata.name}-${hash}-${i}`,
          namespace,
          labels: { ...template.metadata?.labels, 'pod-template-hash': hash },
        },
        spec: template.spec ?? {},
        status: { phase: 'Running' },
      }));
    });
    return [...synthesized, ...this.list(KINDS.pods, namespace)];
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
