// Does the GitOps controller leave canarybot's fields alone? Pure checks of an Argo CD Application's
// spec.ignoreDifferences (explicit JSON pointers, jq path expressions, or managedFieldsManagers
// naming canarybot) and syncOptions RespectIgnoreDifferences=true, and of Flux's equivalents; on a
// gap, the exact YAML to add.
// https://argo-cd.readthedocs.io/en/stable/user-guide/diffing/ ·
// https://fluxcd.io/flux/components/helm/helmreleases/#drift-detection

import { stringify } from 'yaml';
import type { ReleaseTarget } from '../core/ports.js';
import { FIELD_MANAGER } from '../mesh/field-manager.js';

export interface IgnoreRule {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
  managedFieldsManagers?: string[];
}

interface Needed {
  group: string;
  kind: string;
  name: string;
  /** Fields canarybot writes, as JSON pointers; a rule covers one when a pointer is it or a prefix. */
  pointers: string[];
  /** The jq words that show a jq path expression reaches that field. */
  jq: string[];
}

function needed(target: ReleaseTarget): Needed[] {
  return [
    { group: 'networking.istio.io', kind: 'VirtualService', name: target.virtualService, pointers: ['/spec/http'], jq: ['.spec.http'] },
    { group: 'apps', kind: 'Deployment', name: target.canary.deployment, pointers: ['/spec/replicas', '/spec/template/spec/containers'], jq: ['.spec.replicas', '.spec.template.spec.containers'] },
  ];
}

function applies(rule: IgnoreRule, want: Needed, namespace: string): boolean {
  return (rule.group ?? '') === want.group && rule.kind === want.kind && (rule.name === undefined || rule.name === want.name) && (rule.namespace === undefined || rule.namespace === namespace);
}

function covers(rules: readonly IgnoreRule[], want: Needed, namespace: string): boolean {
  const relevant = rules.filter((rule) => applies(rule, want, namespace));
  if (relevant.some((rule) => rule.managedFieldsManagers?.includes(FIELD_MANAGER))) return true;
  return want.pointers.every((field, i) =>
    relevant.some(
      (rule) =>
        (rule.jsonPointers ?? []).some((pointer) => field === pointer || field.startsWith(`${pointer}/`) || (field === '/spec/template/spec/containers' && pointer.startsWith('/spec/template/spec/containers'))) ||
        (rule.jqPathExpressions ?? []).some((expression) => expression.replace(/\[[^\]]*\]\??/g, '').startsWith(want.jq[i]!.replace(/\[[^\]]*\]\??/g, ''))),
    ),
  );
}

/** The ignoreDifferences entries canarybot needs (managedFieldsManagers: the simplest that covers every field it writes). */
export function ignoreDifferencesSnippet(target: ReleaseTarget): string {
  const entries = needed(target).map((want) => ({ group: want.group, kind: want.kind, name: want.name, namespace: target.namespace, managedFieldsManagers: [FIELD_MANAGER] }));
  return stringify({ spec: { ignoreDifferences: entries, syncPolicy: { syncOptions: ['RespectIgnoreDifferences=true'] } } });
}

/** What an Argo CD Application lacks for canarybot, or null when it has everything. */
export function argoApplicationProblems(application: { spec?: { ignoreDifferences?: IgnoreRule[]; syncPolicy?: { syncOptions?: string[] } } }, target: ReleaseTarget): string | null {
  const rules = application.spec?.ignoreDifferences ?? [];
  const missing = needed(target).filter((want) => !covers(rules, want, target.namespace)).map((want) => `${want.kind} ${want.name} (${want.pointers.join(', ')})`);
  const respect = (application.spec?.syncPolicy?.syncOptions ?? []).includes('RespectIgnoreDifferences=true');
  if (missing.length === 0 && respect) return null;
  const gaps = [...missing.map((what) => `ignoreDifferences does not cover ${what}`), ...(respect ? [] : ['syncOptions lacks RespectIgnoreDifferences=true'])];
  return `${gaps.join('; ')}. Add to the Application:\n${ignoreDifferencesSnippet(target)}`;
}

/** HelmRelease spec.driftDetection: ignore rules for canarybot's fields when drift correction is on. */
export function helmReleaseProblems(helmRelease: { spec?: { driftDetection?: { mode?: string; ignore?: { paths?: string[]; target?: { kind?: string; name?: string } }[] } } }, target: ReleaseTarget): string | null {
  const drift = helmRelease.spec?.driftDetection;
  if (drift?.mode !== 'enabled') return null;
  const ignored = (kind: string, name: string, path: string) =>
    (drift.ignore ?? []).some((rule) => (rule.target === undefined || ((rule.target.kind ?? kind) === kind && (rule.target.name ?? name) === name)) && (rule.paths ?? []).some((p) => path === p || path.startsWith(`${p}/`)));
  const gaps = needed(target).flatMap((want) => want.pointers.filter((path) => !ignored(want.kind, want.name, path)).map((path) => `${want.kind} ${want.name} ${path}`));
  if (gaps.length === 0) return null;
  const snippet = stringify({
    spec: {
      driftDetection: {
        mode: 'enabled',
        ignore: needed(target).map((want) => ({ paths: want.pointers, target: { kind: want.kind, name: want.name } })),
      },
    },
  });
  return `driftDetection would revert ${gaps.join(', ')}. Add to the HelmRelease:\n${snippet}`;
}

/** Kustomization: Flux's server-side apply reverts fields set in Git unless the object is marked to be applied only when absent. */
export const FLUX_SSA_ANNOTATION = 'kustomize.toolkit.fluxcd.io/ssa';

export function kustomizationObjectProblems(objects: { kind: string; name: string; annotations: Record<string, string> | undefined }[]): string | null {
  const unmarked = objects.filter((object) => !['IfNotPresent', 'Ignore'].includes(object.annotations?.[FLUX_SSA_ANNOTATION] ?? ''));
  if (unmarked.length === 0) return null;
  return `Flux would revert canarybot's changes to ${unmarked.map((o) => `${o.kind} ${o.name}`).join(' and ')}. Annotate them in Git:\nmetadata:\n  annotations:\n    ${FLUX_SSA_ANNOTATION}: IfNotPresent\n`;
}

/**
 * A HelmRelease whose chart is built from a GitRepository: under reconcileStrategy ChartVersion (the
 * default) Flux upgrades only when Chart.yaml's version changes, so a values edit in Git is never
 * applied; Revision makes every commit a new chart version (`<version>+<sha>`).
 */
export function helmReleaseChartProblems(helmRelease: { spec?: { chart?: { spec?: { sourceRef?: { kind?: string; name?: string }; reconcileStrategy?: string } } } }): string | null {
  const chart = helmRelease.spec?.chart?.spec;
  if (chart?.sourceRef?.kind !== 'GitRepository' || chart.reconcileStrategy === 'Revision') return null;
  const snippet = stringify({ spec: { chart: { spec: { reconcileStrategy: 'Revision' } } } });
  return `its chart is built from GitRepository ${chart.sourceRef.name ?? ''} with reconcileStrategy ${chart.reconcileStrategy ?? 'ChartVersion'}, so Flux upgrades only when Chart.yaml's version changes and would never apply canarybot's commit. Add to the HelmRelease:\n${snippet}`;
}
