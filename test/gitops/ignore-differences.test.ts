// Does the controller leave canarybot's fields alone? Argo CD ignoreDifferences in each of its
// forms, RespectIgnoreDifferences, HelmRelease drift detection, Kustomization ssa annotations.

import { describe, expect, it } from 'vitest';
import { argoApplicationProblems, helmReleaseChartProblems, helmReleaseProblems, kustomizationObjectProblems, type IgnoreRule } from '../../src/gitops/ignore-differences.js';
import { target } from '../mesh/harness.js';

const t = target({ namespace: 'bookinfo' });
const vs = (rule: Partial<IgnoreRule>): IgnoreRule => ({ group: 'networking.istio.io', kind: 'VirtualService', ...rule });
const canary = (rule: Partial<IgnoreRule>): IgnoreRule => ({ group: 'apps', kind: 'Deployment', name: 'reviews-canary', ...rule });
const app = (rules: IgnoreRule[], respect = true) => ({ spec: { ignoreDifferences: rules, syncPolicy: { syncOptions: respect ? ['RespectIgnoreDifferences=true'] : [] } } });

describe('Argo CD Application', () => {
  it.each<[string, IgnoreRule[], boolean, string | null]>([
    ['managedFieldsManagers', [vs({ managedFieldsManagers: ['canarybot'] }), canary({ managedFieldsManagers: ['canarybot'] })], true, null],
    ['explicit pointers', [vs({ name: 'reviews', jsonPointers: ['/spec/http'] }), canary({ jsonPointers: ['/spec/replicas', '/spec/template/spec/containers/0/image'] })], true, null],
    ['jq expressions', [vs({ jqPathExpressions: ['.spec.http[]?.route[]?.weight'] }), canary({ jqPathExpressions: ['.spec.replicas', '.spec.template.spec.containers[].image'] })], true, null],
    ['another VirtualService only', [vs({ name: 'ratings', jsonPointers: ['/spec/http'] }), canary({ managedFieldsManagers: ['canarybot'] })], true, 'ignoreDifferences does not cover VirtualService reviews (/spec/http)'],
    ['replicas not covered', [vs({ managedFieldsManagers: ['canarybot'] }), canary({ jsonPointers: ['/spec/template/spec/containers'] })], true, 'ignoreDifferences does not cover Deployment reviews-canary (/spec/replicas, /spec/template/spec/containers)'],
    ['another manager', [vs({ managedFieldsManagers: ['kubectl'] }), canary({ managedFieldsManagers: ['canarybot'] })], true, 'ignoreDifferences does not cover VirtualService reviews'],
    ['no RespectIgnoreDifferences', [vs({ managedFieldsManagers: ['canarybot'] }), canary({ managedFieldsManagers: ['canarybot'] })], false, 'syncOptions lacks RespectIgnoreDifferences=true'],
  ])('%s', (_name, rules, respect, problem) => {
    const found = argoApplicationProblems(app(rules, respect), t);

    if (problem === null) expect(found).toBeNull();
    else {
      expect(found).toContain(problem);
      expect(found).toContain('Add to the Application:\nspec:\n  ignoreDifferences:\n    - group: networking.istio.io\n      kind: VirtualService\n      name: reviews\n      namespace: bookinfo\n      managedFieldsManagers:\n        - canarybot\n');
    }
  });
});

describe('Flux', () => {
  it('HelmRelease: no drift correction needs nothing; enabled needs ignore rules for both objects', () => {
    const covered = { spec: { driftDetection: { mode: 'enabled', ignore: [{ paths: ['/spec/http'], target: { kind: 'VirtualService', name: 'reviews' } }, { paths: ['/spec/replicas', '/spec/template/spec/containers'], target: { kind: 'Deployment', name: 'reviews-canary' } }] } } };

    expect(helmReleaseProblems({ spec: {} }, t)).toBeNull();
    expect(helmReleaseProblems(covered, t)).toBeNull();
    expect(helmReleaseProblems({ spec: { driftDetection: { mode: 'enabled' } } }, t)).toMatch(/^driftDetection would revert VirtualService reviews \/spec\/http, Deployment reviews-canary \/spec\/replicas, Deployment reviews-canary \/spec\/template\/spec\/containers\. Add to the HelmRelease:\nspec:\n {2}driftDetection:/);
  });

  it('HelmRelease: a chart built from a GitRepository must be versioned by revision, or a values commit is never applied', () => {
    const chart = (spec: { sourceRef: { kind: string; name: string }; reconcileStrategy?: string }) => ({ spec: { chart: { spec: { chart: './apps/reviews', ...spec } } } });

    expect(helmReleaseChartProblems(chart({ sourceRef: { kind: 'GitRepository', name: 'config' }, reconcileStrategy: 'Revision' }))).toBeNull();
    expect(helmReleaseChartProblems(chart({ sourceRef: { kind: 'HelmRepository', name: 'charts' } }))).toBeNull();
    expect(helmReleaseChartProblems(chart({ sourceRef: { kind: 'GitRepository', name: 'config' } }))).toBe(
      "its chart is built from GitRepository config with reconcileStrategy ChartVersion, so Flux upgrades only when Chart.yaml's version changes and would never apply canarybot's commit. Add to the HelmRelease:\nspec:\n  chart:\n    spec:\n      reconcileStrategy: Revision\n",
    );
  });

  it('Kustomization: both objects must be applied only when absent', () => {
    const marked = { 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' };

    expect(kustomizationObjectProblems([{ kind: 'VirtualService', name: 'reviews', annotations: marked }, { kind: 'Deployment', name: 'reviews-canary', annotations: marked }])).toBeNull();
    expect(kustomizationObjectProblems([{ kind: 'VirtualService', name: 'reviews', annotations: undefined }, { kind: 'Deployment', name: 'reviews-canary', annotations: marked }])).toBe(
      "Flux would revert canarybot's changes to VirtualService reviews. Annotate them in Git:\nmetadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\n",
    );
  });
});
