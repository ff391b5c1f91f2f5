// A simulated GitOps controller (Argo CD's application controller, as far as canarybot depends on
// it): it renders the Application's source path from the GitLab test server's repository
// (a Helm chart with spec.source.helm values, or manifests with kustomization.yaml `images:`
// overrides: gitops/render-source.ts), and on a refresh annotation or
// every interval applies it to the Kubernetes test server, self-healing every field that differs
// from Git unless the Application's spec.ignoreDifferences covers it (jsonPointers, jqPathExpressions,
// managedFieldsManagers — the last by the field's owner in managedFields). It reports
// status.sync.revision / status (Synced, OutOfSync) and status.health (Healthy, Progressing).

import { parse } from 'yaml';
import type { GitLabApiServer } from './gitlab-api-server.js';
import type { KubeApiServer } from './kube-api-server.js';
import { changedFieldPaths, ownerOf } from './kube/managed-fields.js';
import type { Obj } from './kube/store.js';
import { overlay, pointerOf, restore } from './gitops/apply.js';
import { renderSource } from './gitops/render-source.js';

export interface SimulatedArgoOptions {
  kube: KubeApiServer;
  gitlab: GitLabApiServer;
  /** The Application object (argocd namespace/name). */
  application: { namespace: string; name: string };
  repository: { projectId: number; branch: string; path: string };
  /** Self-heal interval (Argo CD: the reconciliation timeout, 3 min by default). */
  intervalMs: number;
  /** How often the refresh annotation is looked for. */
  pollMs?: number;
}

type Json = Record<string, unknown>;
interface Rule { group?: string; kind?: string; name?: string; namespace?: string; jsonPointers?: string[]; jqPathExpressions?: string[]; managedFieldsManagers?: string[] }

const MANAGER = 'argocd-controller';
const GROUPS: Record<string, string> = { Deployment: 'apps', VirtualService: 'networking.istio.io', DestinationRule: 'networking.istio.io' };

function ignored(rules: Rule[], object: Obj, kind: string, path: string[]): boolean {
  const { pointer, jq } = pointerOf(object, path);
  return rules
    .filter((rule) => (rule.group ?? '') === (GROUPS[kind] ?? '') && rule.kind === kind && (rule.name === undefined || rule.name === object.metadata.name) && (rule.namespace === undefined || rule.namespace === object.metadata.namespace))
    .some(
      (rule) =>
        (rule.jsonPointers ?? []).some((p) => pointer === p || pointer.startsWith(`${p}/`)) ||
        (rule.jqPathExpressions ?? []).some((expression) => jq.startsWith(expression.replace(/\[[^\]]*\]\??/g, ''))) ||
        (rule.managedFieldsManagers ?? []).includes(ownerOf(object, path) ?? ''),
    );
}

export class SimulatedArgoCd {
  private timer: NodeJS.Timeout | null = null;
  private lastHeal = 0;
  /** Every self-heal write: `<Kind>/<name> <json pointer>` (for tests and the demo). */
  readonly heals: string[] = [];
  /** Revisions applied, in order. */
  readonly applied: string[] = [];

  constructor(private readonly options: SimulatedArgoOptions) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 25);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private application(): Obj {
    const { namespace, name } = this.options.application;
    const app = this.options.kube.object('Application', namespace, name);
    if (!app) throw new Error(`no Application ${namespace}/${name}`);
    return app;
  }

  private poll(): void {
    const app = this.application();
    const refresh = (app.metadata.annotations as Record<string, string> | undefined)?.['argocd.argoproj.io/refresh'];
    const now = Date.now();
    if (refresh === undefined && now - this.lastHeal < this.options.intervalMs) {
      this.reportHealth();
      return;
    }
    this.lastHeal = now;
    if (refresh !== undefined) {
      this.options.kube.mutate('Application', this.options.application.namespace, this.options.application.name, (object) => {
        delete (object.metadata.annotations as Record<string, string>)['argocd.argoproj.io/refresh'];
      }, MANAGER);
    }
    this.reconcile();
  }

  /** Renders Git at the branch head: a Helm chart (Chart.yaml in the path) with spec.source.helm, else manifests with kustomize image overrides. */
  render(): { revision: string; objects: Json[] } {
    const { projectId, branch, path } = this.options.repository;
    const head = this.options.gitlab.repositories.repository(projectId).resolve(branch)!;
    const app = this.application();
    const spec = app.spec as { source?: { helm?: { releaseName?: string; valueFiles?: string[]; values?: string; valuesObject?: Json } }; destination?: { namespace?: string } };
    const helm = spec.source?.helm;
    const inline = { ...((parse(helm?.values ?? '') as Json | null) ?? {}), ...(helm?.valuesObject ?? {}) };
    const { objects } = renderSource(head.files, path, {
      releaseName: helm?.releaseName ?? this.options.application.name,
      namespace: spec.destination?.namespace ?? 'default',
      ...(helm?.valueFiles ? { valueFiles: helm.valueFiles } : {}),
      values: inline,
    });
    return { revision: head.id, objects };
  }

  /** One reconciliation: diff Git against the cluster, heal what is not ignored, report status. */
  reconcile(): void {
    const { kube } = this.options;
    const app = this.application();
    const rules = ((app.spec as Json).ignoreDifferences as Rule[] | undefined) ?? [];
    const { revision, objects } = this.render();
    for (const desired of objects) {
      const kind = desired.kind as string;
      const metadata = desired.metadata as { name: string; namespace?: string };
      const namespace = metadata.namespace ?? 'default';
      const live = kube.object(kind, namespace, metadata.name);
      if (!live) continue;
      const { apiVersion: _a, kind: _k, metadata: _m, ...body } = desired;
      const target = overlay(live, body) as Obj;
      const diffs = changedFieldPaths(live, target).filter((path) => path[0] !== 'f:metadata' && path[0] !== 'f:status');
      const heal = diffs.filter((path) => !ignored(rules, live, kind, path));
      if (heal.length === 0) continue;
      for (const path of diffs) if (!heal.includes(path)) restore(target, live, path);
      for (const path of heal) this.heals.push(`${kind}/${metadata.name} ${pointerOf(live, path).pointer}`);
      kube.mutate(kind, namespace, metadata.name, (object) => Object.assign(object, { spec: target.spec }), MANAGER);
    }
    if (this.applied.at(-1) !== revision) this.applied.push(revision);
    this.reportHealth(revision);
  }

  private reportHealth(revision?: string): void {
    const { kube } = this.options;
    if (revision !== undefined) this.last = { revision, deployments: this.render().objects.filter((object) => object.kind === 'Deployment').map((object) => object.metadata as { name: string; namespace?: string }) };
    if (!this.last) return;
    const progressing = this.last.deployments.some((metadata) => {
      const live = kube.object('Deployment', metadata.namespace ?? 'default', metadata.name);
      if (!live) return true;
      const s = (live.status ?? {}) as { updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number };
      const desired = (live.spec as { replicas?: number }).replicas ?? 1;
      return s.observedGeneration !== live.metadata.generation || (s.updatedReplicas ?? 0) < desired || (s.availableReplicas ?? 0) < desired;
    });
    const app = this.application();
    const status = (app.status as Json | undefined) ?? {};
    const next = { sync: { status: 'Synced', revision: this.last.revision }, health: { status: progressing ? 'Progressing' : 'Healthy' } };
    if (JSON.stringify(next) !== JSON.stringify({ sync: status.sync, health: status.health })) {
      kube.writeStatus('Application', this.options.application.namespace, this.options.application.name, next);
    }
  }

  private last: { revision: string; deployments: { name: string; namespace?: string }[] } | null = null;
}
