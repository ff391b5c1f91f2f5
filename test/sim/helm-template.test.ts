// The simulated Helm's template subset and chart rendering (src/sim/gitops): what it renders, and
// that anything outside the subset is refused with file and line rather than rendered wrong.

import { describe, expect, it } from 'vitest';
import { HelmTemplateError, mergeValues, renderTemplate, type TemplateContext } from '../../src/sim/gitops/helm-template.js';
import { renderChart, renderManifests, renderSource } from '../../src/sim/gitops/render-source.js';
import { reviewsChart } from '../gitops/reviews-chart.js';

const context: TemplateContext = {
  Values: { image: { repository: 'registry.example.com/bookinfo/reviews', tag: 'v1' }, replicas: 3, empty: '', zero: 0, off: false, list: [1] },
  Release: { Name: 'reviews', Namespace: 'bookinfo' },
  Chart: { Name: 'reviews', Version: '1.4.0' },
};

describe('renderTemplate', () => {
  it.each([
    ['a value', 'image: {{ .Values.image.tag }}', 'image: v1'],
    ['a number', 'replicas: {{ .Values.replicas }}', 'replicas: 3'],
    ['two values on a line', '{{ .Values.image.repository }}:{{ .Values.image.tag }}', 'registry.example.com/bookinfo/reviews:v1'],
    ['release and chart', '{{ .Release.Name }}/{{ .Release.Namespace }} {{ .Chart.Name }}-{{ .Chart.Version }}', 'reviews/bookinfo reviews-1.4.0'],
    ['quote as a function', 'tag: {{ quote .Values.image.tag }}', 'tag: "v1"'],
    ['quote in a pipeline', 'tag: {{ .Values.image.tag | quote }}', 'tag: "v1"'],
    ['quote escapes', '{{ "say \\"hi\\"" | quote }}', '"say \\"hi\\""'],
    ['default keeps a set value', '{{ .Values.image.tag | default "latest" }}', 'v1'],
    ['default replaces a missing value', '{{ .Values.image.digest | default "latest" }}', 'latest'],
    ['default replaces an empty string', '{{ default "x" .Values.empty }}', 'x'],
    ['default replaces 0 and false (Go empty)', '{{ .Values.zero | default 5 }} {{ .Values.off | default true }}', '5 true'],
    ['default then quote', '{{ .Values.missing | default "latest" | quote }}', '"latest"'],
    ['a missing value renders as nothing', 'tag: {{ .Values.nothing }}.', 'tag: .'],
    ['left trim', 'a:\n  {{- .Values.image.tag }}', 'a:v1'],
    ['right trim', '{{ .Values.image.tag -}}\n  b', 'v1b'],
    ['a comment', 'a{{/* a comment */}}b', 'ab'],
    ['text without actions', 'kind: Service\n', 'kind: Service\n'],
  ])('%s', (_name, source, expected) => {
    expect(renderTemplate(source, context)).toBe(expected);
  });

  it.each([
    ['if', '{{ if .Values.x }}a{{ end }}', 'values.yaml:1: `if` is not supported'],
    ['range', 'a\n{{ range .Values.list }}', 'values.yaml:2: `range` is not supported'],
    ['include', '{{ include "x" . }}', '`include` is not supported'],
    ['toYaml', '{{ .Values.image | toYaml }}', '`toYaml` is not a function the simulated Helm knows'],
    ['a path through a missing map', '{{ .Values.nope.tag }}', 'nil pointer evaluating interface {}.tag'],
    ['a map rendered', '{{ .Values.image }}', 'renders a map'],
    ['an unclosed action', 'a {{ .Values.x', 'unclosed action'],
    ['default with one argument', '{{ default .Values.x }}', 'default takes 2 arguments, got 1'],
  ])('refuses %s', (_name, source, message) => {
    expect(() => renderTemplate(source, context, 'values.yaml')).toThrow(HelmTemplateError);
    expect(() => renderTemplate(source, context, 'values.yaml')).toThrow(message);
  });
});

describe('mergeValues', () => {
  it('merges maps key by key and replaces scalars and lists', () => {
    expect(mergeValues({ image: { repository: 'r', tag: 'v1' }, list: [1, 2], n: 1 }, { image: { tag: 'v2' }, list: [3] })).toEqual({ image: { repository: 'r', tag: 'v2' }, list: [3], n: 1 });
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
