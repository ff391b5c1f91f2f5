// What the simulated GitOps controllers render from a config repository directory (src/sim/gitops):
// a Helm chart with its values layered as Helm does (templates by go-template.ts, whose own cases
// are in test/chart/go-template.test.ts), or manifests with kustomize image overrides.

import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/sim/gitops/go-template.js';
import { coalesceValues, renderChart, renderManifests, renderSource } from '../../src/sim/gitops/render-source.js';
import { reviewsChart } from '../gitops/reviews-chart.js';

describe('coalesceValues', () => {
  it('merges maps key by key, replaces scalars and lists, and null deletes a key', () => {
    expect(coalesceValues({ image: { repository: 'r', tag: 'v1' }, list: [1, 2], n: 1, gone: 'x' }, { image: { tag: 'v2' }, list: [3], gone: null })).toEqual({ image: { repository: 'r', tag: 'v2' }, list: [3], n: 1 });
  });
});

describe('renderChart', () => {
  const files = new Map(Object.entries({ ...reviewsChart('apps/reviews'), 'apps/reviews/values-prod.yaml': 'replicas: 5\n', 'other/x.yaml': 'kind: ConfigMap\n' }));

  it('renders templates/*.yaml with values.yaml, in name order, skipping _ files, namespaced to the release', () => {
    const { objects, chart } = renderChart(files, 'apps/reviews', { releaseName: 'reviews', namespace: 'bookinfo' });
    expect(objects.map((object) => `${String(object.kind)}/${String((object.metadata as { name: string }).name)}`)).toEqual(['Deployment/reviews-canary', 'Deployment/reviews-primary', 'VirtualService/reviews']);
    const stable = objects[1] as { metadata: { namespace: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    expect(stable.spec.template.spec.containers[0]!.image).toBe('registry.example.com/bookinfo/reviews:v1');
    expect(stable.spec.replicas).toBe(3);
    expect(stable.metadata.namespace).toBe('bookinfo');
    expect(chart).toMatchObject({ name: 'reviews', version: '1.4.0' });
  });

  it('lays value files, then inline values, over values.yaml', () => {
    const { objects } = renderChart(files, './apps/reviews/', { releaseName: 'reviews', namespace: 'bookinfo', valueFiles: ['values-prod.yaml'], values: { image: { tag: 'v9' } } });
    const stable = objects[1] as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    expect(stable.spec.replicas).toBe(5);
    expect(stable.spec.template.spec.containers[0]!.image).toBe('registry.example.com/bookinfo/reviews:v9');
  });

  it('uses the defines of _ files through include, and refuses what the template subset does not know', () => {
    const chart = new Map([
      ['c/Chart.yaml', 'name: c\nversion: 1.0.0\n'],
      ['c/templates/_helpers.tpl', '{{- define "c.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}\n'],
      ['c/templates/cm.yaml', 'kind: ConfigMap\nmetadata:\n  name: {{ include "c.name" . }}\n'],
    ]);
    expect(renderChart(chart, 'c', { releaseName: 'r', namespace: 'n' }).objects).toEqual([{ kind: 'ConfigMap', metadata: { name: 'r-c', namespace: 'n' } }]);
    chart.set('c/templates/cm.yaml', 'kind: ConfigMap\nmetadata:\n  name: {{ .Values.name | frobnicate }}\n');
    expect(() => renderChart(chart, 'c', { releaseName: 'r', namespace: 'n' })).toThrow(TemplateError);
  });

  it('refuses a chart without a version and a missing values file', () => {
    expect(() => renderChart(new Map([['c/Chart.yaml', 'name: x\n']]), 'c', { releaseName: 'x', namespace: 'n' })).toThrow('c/Chart.yaml: needs name and version');
    expect(() => renderChart(files, 'apps/reviews', { releaseName: 'r', namespace: 'n', valueFiles: ['nope.yaml'] })).toThrow('values file apps/reviews/nope.yaml not found');
  });
});

describe('renderManifests and renderSource', () => {
  it('applies kustomization images (newTag, newName) to the manifests directly in the directory', () => {
    const files = new Map(Object.entries({
      'apps/reviews/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: a }\nspec:\n  template:\n    spec:\n      containers:\n        - { name: a, image: "registry.example.com/a:v1" }\n        - { name: b, image: "registry.example.com/b:v1" }\n',
      'apps/reviews/kustomization.yaml': 'images:\n  - name: registry.example.com/a\n    newTag: v2\n  - name: registry.example.com/b\n    newName: mirror.example.com/b\n',
      'apps/reviews/nested/ignored.yaml': 'kind: ConfigMap\nmetadata: { name: nested }\n',
    }));
    const { objects, chart } = renderSource(files, 'apps/reviews', { releaseName: 'r', namespace: 'n' });
    expect(chart).toBeUndefined();
    expect(objects).toHaveLength(1);
    const containers = ((objects[0]!.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers).map((c) => c.image);
    expect(containers).toEqual(['registry.example.com/a:v2', 'mirror.example.com/b:v1']);
    expect(renderManifests(files, 'apps/reviews').objects).toEqual(objects);
  });

  it('renders a chart when the directory holds Chart.yaml', () => {
    const { chart } = renderSource(new Map(Object.entries(reviewsChart('apps/reviews'))), 'apps/reviews', { releaseName: 'r', namespace: 'n' });
    expect(chart?.name).toBe('reviews');
  });
});
