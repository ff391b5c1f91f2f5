// A simulated Flux (source-, kustomize- and helm-controller, as far as canarybot depends on them),
// reading the GitLab test server's repositories and writing through the Kubernetes test server:
//   - GitRepository (source.toolkit.fluxcd.io/v1): every spec.interval, or when
//     reconcile.fluxcd.io/requestedAt changes, resolves spec.ref.branch and reports
//     status.artifact.revision `<branch>@sha1:<sha>`.
//   - Kustomization (kustomize.toolkit.fluxcd.io/v1): on its interval, a request, a new spec
//     generation or a new source revision, renders spec.path (manifests + kustomization.yaml
//     images) and server-side applies it with the field manager `kustomize-controller`, forcing
//     every field Git declares back (drift correction) — except objects annotated
//     kustomize.toolkit.fluxcd.io/ssa: IfNotPresent (created when absent, never updated) or Ignore,
//     and kustomize.toolkit.fluxcd.io/reconcile: disabled. Reports lastAttemptedRevision,
//     lastAppliedRevision, inventory and the Ready condition ("Applied revision: …").
//   - HelmRelease (helm.toolkit.fluxcd.io/v2) with a chart from a GitRepository: the chart's
//     version is Chart.yaml's, with `+<first 12 of the sha>` under reconcileStrategy: Revision;
//     under ChartVersion (the default) a new commit with the same chart version is not a new chart,
//     so edited values in Git are NOT applied (as in Flux). An upgrade renders the chart
//     (gitops/render-source.ts) with valuesFiles and spec.values and applies every field it renders
//     (manager `helm-controller`); status.history[0] records chartVersion/configDigest/deployed.
//     Between upgrades, spec.driftDetection.mode enabled corrects drift except
//     driftDetection.ignore paths; warn only reports the Drifted condition.
// Durations are Go's (`10m`, `1m30s`, `150ms`). Not simulated: prune, dependsOn, health checks
// (spec.wait), decryption, remote clusters, HelmRepository/OCI sources.
// https://fluxcd.io/flux/components/kustomize/kustomizations/ · https://fluxcd.io/flux/components/helm/helmreleases/

import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { GitLabApiServer } from './gitlab-api-server.js';
import type { KubeApiServer } from './kube-api-server.js';
import { changedFieldPaths } from './kube/managed-fields.js';
import type { Obj } from './kube/store.js';
import { overlay, pointerOf, restore } from './gitops/apply.js';
import { renderChart, renderManifests, type Json } from './gitops/render-source.js';

export interface SimulatedFluxOptions {
  kube: KubeApiServer;
  gitlab: GitLabApiServer;
  /** The namespace whose Flux objects are reconciled (default flux-system). */
  namespace?: string;
  /** How often the objects are looked at (default 25 ms). */
  pollMs?: number;
}

export const FLUX_REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
export const FLUX_SSA = 'kustomize.toolkit.fluxcd.io/ssa';
const FLUX_RECONCILE = 'kustomize.toolkit.fluxcd.io/reconcile';
const KUSTOMIZE_MANAGER = 'kustomize-controller';
const HELM_MANAGER = 'helm-controller';
const GROUPS: Record<string, string> = { Deployment: 'apps', VirtualService: 'networking.istio.io', DestinationRule: 'networking.istio.io' };

interface Condition { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; lastTransitionTime?: string; observedGeneration?: number }
interface Snapshot { chartName: string; chartVersion: string; configDigest: string; name: string; namespace: string; version: number; status: string; action: string; firstDeployed: string; lastDeployed: string }
interface HelmSpec {
  chart?: { spec?: { chart?: string; sourceRef?: { kind?: string; name?: string; namespace?: string }; reconcileStrategy?: string; valuesFiles?: string[] } };
  values?: Json;
  releaseName?: string;
  targetNamespace?: string;
  driftDetection?: { mode?: string; ignore?: { paths?: string[]; target?: { kind?: string; name?: string; namespace?: string } }[] };
}

/** A Go duration (`1h2m3s`, `10m0s`, `150ms`) in milliseconds. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  let rest = text.trim();
  if (rest === '' || rest === '0') return 0;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/.exec(rest);
    if (!match) throw new Error(`not a duration: ${text}`);
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

function annotations(object: Obj): Record<string, string> {
  return (object.metadata.annotations as Record<string, string> | undefined) ?? {};
}

function condition(type: string, ok: boolean, reason: string, message: string, generation: unknown, previous: Condition[] | undefined): Condition {
  const status = ok ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, message, ...(lastTransitionTime ? { lastTransitionTime } : {}), ...(typeof generation === 'number' ? { observedGeneration: generation } : {}) };
}

export class SimulatedFlux {
  private timer: NodeJS.Timeout | null = null;
  private readonly lastRun = new Map<string, number>();
  /** The HelmChart artifact of each HelmRelease: the chart version and the files it was built from. */
  private readonly charts = new Map<string, { version: string; sha: string; files: ReadonlyMap<string, string> }>();
  /** Every field a reconcile changed on a live object: `<Kind>/<name> <Kind>/<name> <json pointer>` (the Flux object first). */
  readonly heals: string[] = [];
  /** Revisions applied, in order: `<Kind>/<name> <revision>`. */
  readonly applied: string[] = [];
  /** Errors a reconcile reported (also in the object's Ready condition). */
  readonly errors: string[] = [];

  constructor(private readonly options: SimulatedFluxOptions) {}

  private get namespace(): string {
    return this.options.namespace ?? 'flux-system';
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 25);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every Flux object: sources first, so appliers see a new revision at once. */
  poll(): void {
    for (const source of this.options.kube.list('GitRepository', this.namespace)) if (this.due(source, false)) this.reconcileSource(source);
    for (const kustomization of this.options.kube.list('Kustomization', this.namespace)) {
      const revision = this.sourceRevision(kustomization.spec as { sourceRef?: { name?: string; namespace?: string } } | undefined);
      if (this.due(kustomization, revision !== null && revision !== (kustomization.status as Json | undefined)?.lastAttemptedRevision)) this.reconcileKustomization(kustomization);
    }
    for (const release of this.options.kube.list('HelmRelease', this.namespace)) {
      const revision = this.sourceRevision((release.spec as HelmSpec).chart?.spec);
      const chart = this.charts.get(this.key(release));
      if (this.due(release, revision !== null && (chart === undefined || !revision.endsWith(chart.sha)))) this.reconcileHelmRelease(release);
    }
  }

  private key(object: Obj): string {
    return `${String(object.kind)}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  }

  /** Its interval elapsed, a reconcile requested, a new generation, or `changed` (a new source revision). */
  private due(object: Obj, changed: boolean): boolean {
    const spec = (object.spec ?? {}) as { interval?: string; suspend?: boolean };
    if (spec.suspend === true) return false;
    const status = (object.status ?? {}) as { observedGeneration?: number; lastHandledReconcileAt?: string };
    const requested = annotations(object)[FLUX_REQUESTED_AT];
    const last = this.lastRun.get(this.key(object));
    return changed || last === undefined || status.observedGeneration !== object.metadata.generation || (requested !== undefined && requested !== status.lastHandledReconcileAt) || Date.now() - last >= parseGoDuration(spec.interval ?? '10m');
  }

  private finish(object: Obj, status: Json): void {
    this.lastRun.set(this.key(object), Date.now());
    const requested = annotations(object)[FLUX_REQUESTED_AT];
    const next = { ...status, observedGeneration: object.metadata.generation, ...(requested !== undefined ? { lastHandledReconcileAt: requested } : {}) };
    if (JSON.stringify(next) !== JSON.stringify(object.status ?? {})) {
      this.options.kube.writeStatus(String(object.kind), object.metadata.namespace ?? this.namespace, object.metadata.name, next);
    }
  }

  private source(ref: { name?: string; namespace?: string } | undefined): Obj | undefined {
    return ref?.name === undefined ? undefined : this.options.kube.object('GitRepository', ref.namespace ?? this.namespace, ref.name);
  }

  private sourceRevision(ref: { sourceRef?: { name?: string; namespace?: string } } | undefined): string | null {
    const artifact = (this.source(ref?.sourceRef)?.status as { artifact?: { revision?: string } } | undefined)?.artifact;
    return artifact?.revision ?? null;
  }

  /** The files of the commit a GitRepository's artifact holds. */
  private files(source: Obj): { revision: string; sha: string; files: ReadonlyMap<string, string> } | null {
    const revision = (source.status as { artifact?: { revision?: string } } | undefined)?.artifact?.revision;
    if (revision === undefined) return null;
    const sha = revision.slice(revision.indexOf('@sha1:') + 6);
    const commit = this.repository(source).commits.get(sha);
    return commit ? { revision, sha, files: commit.files } : null;
  }

  private repository(source: Obj) {
    const url = String((source.spec as { url?: string }).url ?? '');
    const path = new URL(url).pathname.replace(/^\/+/, '').replace(/\.git$/, '');
    return this.options.gitlab.repositories.repository(path);
  }

  private reconcileSource(source: Obj): void {
    const generation = source.metadata.generation;
    const previous = (source.status as { conditions?: Condition[] } | undefined)?.conditions;
    const branch = (source.spec as { ref?: { branch?: string } }).ref?.branch ?? 'master';
    try {
      const head = this.repository(source).resolve(branch);
      if (!head) throw new Error(`failed to checkout and determine revision: unable to resolve branch '${branch}'`);
      const revision = `${branch}@sha1:${head.id}`;
      const before = (source.status as { artifact?: { revision?: string; lastUpdateTime?: string } } | undefined)?.artifact;
      const artifact = before?.revision === revision ? before : { revision, digest: `sha256:${createHash('sha256').update(head.id).digest('hex')}`, lastUpdateTime: new Date().toISOString() };
      this.finish(source, { artifact, conditions: [condition('Ready', true, 'Succeeded', `stored artifact for revision '${revision}'`, generation, previous)] });
    } catch (error) {
      this.fail(source, 'GitOperationFailed', error, previous);
    }
  }

  private fail(object: Obj, reason: string, error: unknown, previous: Condition[] | undefined, extra: Json = {}): void {
    const message = error instanceof Error ? error.message : String(error);
    this.errors.push(`${String(object.kind)}/${object.metadata.name}: ${message}`);
    this.finish(object, { ...(object.status as Json | undefined), ...extra, conditions: [condition('Ready', false, reason, message, object.metadata.generation, previous)] });
  }

  /** Server-side apply of `desired` over the live object (created when absent); `skip` leaves a live field as it is. */
  private apply(desired: Json, manager: string, owner: string, skip: (live: Obj, path: string[]) => boolean = () => false): void {
    const { kube } = this.options;
    const kind = String(desired.kind);
    const metadata = desired.metadata as { name: string; namespace?: string; labels?: Json; annotations?: Json };
    const namespace = metadata.namespace ?? 'default';
    const live = kube.object(kind, namespace, metadata.name);
    if (!live) {
      kube.seed({ ...(desired as { kind: string }), metadata: { ...metadata, namespace } });
      kube.mutate(kind, namespace, metadata.name, () => undefined, manager, 'Apply');
      return;
    }
    const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...body } = desired;
    const declared = { ...body, metadata: { ...(metadata.labels ? { labels: metadata.labels } : {}), ...(metadata.annotations ? { annotations: metadata.annotations } : {}) } };
    const target = overlay(live, declared) as Obj;
    const changed = changedFieldPaths(live, target).filter((path) => path[0] !== 'f:status');
    const corrected = changed.filter((path) => !skip(live, path));
    if (corrected.length === 0) return;
    for (const path of changed) if (!corrected.includes(path)) restore(target, live, path);
    for (const path of corrected) this.heals.push(`${owner} ${kind}/${metadata.name} ${pointerOf(live, path).pointer}`);
    kube.mutate(kind, namespace, metadata.name, (object) => {
      for (const key of Object.keys(declared)) if (key !== 'metadata') object[key] = target[key];
      if (target.metadata.labels !== undefined) object.metadata.labels = target.metadata.labels;
      if (target.metadata.annotations !== undefined) object.metadata.annotations = target.metadata.annotations;
    }, manager, 'Apply');
  }

  private reconcileKustomization(kustomization: Obj): void {
    const spec = kustomization.spec as { path?: string; sourceRef?: { kind?: string; name?: string; namespace?: string }; targetNamespace?: string };
    const previous = (kustomization.status as { conditions?: Condition[] } | undefined)?.conditions;
    const source = this.source(spec.sourceRef);
    const artifact = source ? this.files(source) : null;
    if (!artifact) {
      this.fail(kustomization, 'ArtifactFailed', new Error(`Source artifact not found, retrying in 30s`), previous);
      return;
    }
    const owner = `Kustomization/${kustomization.metadata.name}`;
    try {
      const { objects } = renderManifests(artifact.files, spec.path ?? './');
      const inventory: { id: string; v: string }[] = [];
      for (const object of objects) {
        const metadata = (object.metadata ??= {}) as { name: string; namespace?: string; annotations?: Record<string, string> };
        if (spec.targetNamespace) metadata.namespace = spec.targetNamespace;
        metadata.namespace ??= 'default';
        const kind = String(object.kind);
        inventory.push({ id: `${metadata.namespace}_${metadata.name}_${GROUPS[kind] ?? ''}_${kind}`, v: String(object.apiVersion ?? 'v1').split('/').at(-1)! });
        const mode = metadata.annotations?.[FLUX_SSA];
        if (metadata.annotations?.[FLUX_RECONCILE] === 'disabled' || mode === 'Ignore') continue;
        if (mode === 'IfNotPresent' && this.options.kube.object(kind, metadata.namespace, metadata.name)) continue;
        this.apply(object, KUSTOMIZE_MANAGER, owner);
      }
      if ((kustomization.status as Json | undefined)?.lastAppliedRevision !== artifact.revision) this.applied.push(`${owner} ${artifact.revision}`);
      this.finish(kustomization, {
        lastAttemptedRevision: artifact.revision,
        lastAppliedRevision: artifact.revision,
        inventory: { entries: inventory },
        conditions: [condition('Ready', true, 'ReconciliationSucceeded', `Applied revision: ${artifact.revision}`, kustomization.metadata.generation, previous)],
      });
    } catch (error) {
      this.fail(kustomization, 'BuildFailed', error, previous, { lastAttemptedRevision: artifact.revision });
    }
  }

  /** The chart artifact: rebuilt only when the chart version changes (reconcileStrategy decides what a version is). */
  private chart(release: Obj, chartDir: string, strategy: string, artifact: { sha: string; files: ReadonlyMap<string, string> }) {
    const chartFile = parse(artifact.files.get(`${chartDir.replace(/^\.?\/+/, '').replace(/\/+$/, '')}/Chart.yaml`) ?? '') as { version?: unknown } | null;
    if (chartFile?.version === undefined) throw new Error(`no chart with a version at ${chartDir}`);
    const version = strategy === 'Revision' ? `${String(chartFile.version)}+${artifact.sha.slice(0, 12)}` : String(chartFile.version);
    const key = this.key(release);
    const stored = this.charts.get(key);
    if (stored?.version === version) {
      this.charts.set(key, { ...stored, sha: artifact.sha });
      return stored;
    }
    const built = { version, sha: artifact.sha, files: artifact.files };
    this.charts.set(key, built);
    return built;
  }

  private reconcileHelmRelease(release: Obj): void {
    const spec = release.spec as HelmSpec;
    const status = (release.status ?? {}) as { conditions?: Condition[]; history?: Snapshot[] };
    const previous = status.conditions;
    const chartSpec = spec.chart?.spec;
    const source = chartSpec?.sourceRef?.kind === 'GitRepository' ? this.source(chartSpec.sourceRef) : undefined;
    const artifact = source ? this.files(source) : null;
    if (!chartSpec?.chart || !artifact) {
      this.fail(release, 'ArtifactFailed', new Error(chartSpec?.sourceRef?.kind === 'GitRepository' ? 'HelmChart is not ready: source artifact not found' : 'the simulated Flux builds charts from a GitRepository only'), previous);
      return;
    }
    const owner = `HelmRelease/${release.metadata.name}`;
    const namespace = spec.targetNamespace ?? release.metadata.namespace ?? 'default';
    const releaseName = spec.releaseName ?? (spec.targetNamespace ? `${spec.targetNamespace}-${release.metadata.name}` : release.metadata.name);
    try {
      const chart = this.chart(release, chartSpec.chart, chartSpec.reconcileStrategy ?? 'ChartVersion', artifact);
      const rendered = renderChart(chart.files, chartSpec.chart, { releaseName, namespace, valueFiles: (chartSpec.valuesFiles ?? []).map((file) => `/${file.replace(/^\.?\/+/, '')}`), values: spec.values ?? {} });
      const configDigest = `sha256:${createHash('sha256').update(JSON.stringify(spec.values ?? {})).digest('hex')}`;
      const latest = status.history?.[0];
      const base = { lastAttemptedRevision: chart.version, lastAttemptedConfigDigest: configDigest, helmChart: `${release.metadata.namespace}/${release.metadata.namespace}-${release.metadata.name}` };
      if (!latest || latest.chartVersion !== chart.version || latest.configDigest !== configDigest) {
        for (const object of rendered.objects) this.apply(object, HELM_MANAGER, owner);
        const action = latest ? 'upgrade' : 'install';
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const version = (latest?.version ?? 0) + 1;
        const snapshot: Snapshot = { chartName: rendered.chart!.name, chartVersion: chart.version, configDigest, name: releaseName, namespace, version, status: 'deployed', action, firstDeployed: status.history?.at(-1)?.firstDeployed ?? now, lastDeployed: now };
        const history = [snapshot, ...(status.history ?? []).map((entry) => ({ ...entry, status: 'superseded' }))].slice(0, 5);
        const reason = action === 'install' ? 'InstallSucceeded' : 'UpgradeSucceeded';
        const message = `Helm ${action} succeeded for release ${namespace}/${releaseName}.v${version} with chart ${snapshot.chartName}@${chart.version}`;
        this.applied.push(`${owner} ${chart.version}`);
        this.finish(release, { ...base, history, lastAttemptedReleaseAction: action, conditions: [condition('Ready', true, reason, message, release.metadata.generation, previous), condition('Released', true, reason, message, release.metadata.generation, previous)] });
        return;
      }
      const drift = this.correctDrift(release, rendered.objects, owner);
      const kept = (previous ?? []).filter((c) => c.type === 'Ready' || c.type === 'Released');
      this.finish(release, { ...base, history: status.history, conditions: [...kept, ...(drift === null ? [] : [condition('Drifted', drift, drift ? 'DriftDetected' : 'NoDriftDetected', drift ? `Cluster state of release ${namespace}/${releaseName}.v${latest.version} has drifted from the desired state` : `No drift detected for release ${namespace}/${releaseName}.v${latest.version}`, release.metadata.generation, previous)])] });
    } catch (error) {
      this.fail(release, 'ArtifactFailed', error, previous);
    }
  }

  /** driftDetection between upgrades: null when disabled, else whether a live field differed (corrected when enabled). */
  private correctDrift(release: Obj, objects: Json[], owner: string): boolean | null {
    const drift = (release.spec as HelmSpec).driftDetection;
    if (drift?.mode !== 'enabled' && drift?.mode !== 'warn') return null;
    const ignored = (object: Json, live: Obj, path: string[]) => {
      const pointer = pointerOf(live, path).pointer;
      const metadata = object.metadata as { name: string; namespace?: string };
      return (drift.ignore ?? []).some((rule) =>
        (rule.target === undefined || ((rule.target.kind ?? object.kind) === object.kind && (rule.target.name ?? metadata.name) === metadata.name && (rule.target.namespace ?? metadata.namespace) === metadata.namespace)) &&
        (rule.paths ?? []).some((p) => pointer === p || pointer.startsWith(`${p}/`)),
      );
    };
    let drifted = false;
    for (const object of objects) {
      const metadata = object.metadata as { name: string; namespace: string };
      const live = this.options.kube.object(String(object.kind), metadata.namespace, metadata.name);
      if (!live) {
        drifted = true;
        if (drift.mode === 'enabled') this.apply(object, HELM_MANAGER, owner);
        continue;
      }
      const { apiVersion: _a, kind: _k, metadata: _m, ...body } = object;
      const differs = changedFieldPaths(live, overlay(live, body)).filter((path) => path[0] !== 'f:status' && path[0] !== 'f:metadata' && !ignored(object, live, path));
      if (differs.length === 0) continue;
      drifted = true;
      if (drift.mode === 'enabled') this.apply(object, HELM_MANAGER, owner, (current, path) => path[0] === 'f:metadata' || ignored(object, current, path));
    }
    return drifted;
  }
}

