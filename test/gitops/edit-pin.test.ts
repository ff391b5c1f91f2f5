// The byte-preserving editors: for every kind of pin, only the pinned scalar changes; comments,
// key order, quoting, blank lines, anchors and other documents stay byte for byte. Each row is
// (file, pin, new value) → the exact file expected.

import { describe, expect, it } from 'vitest';
import type { GitOpsPin } from '../../src/core/gitops-spec.js';
import { imageRepository, imageTag, PinError, readPin, writePin } from '../../src/gitops/edit-pin.js';

const helm: GitOpsPin = { kind: 'helmValues', path: ['image', 'tag'] };
const kustomize: GitOpsPin = { kind: 'kustomizeImage', image: 'registry.example.com/bookinfo/reviews' };
const manifest: GitOpsPin = { kind: 'manifest', manifestKind: 'Deployment', name: 'reviews-primary', container: 'reviews' };

const HELM = `# Values for reviews — owned by the platform team.
replicaCount: 3


image:
  repository: registry.example.com/bookinfo/reviews   # mirrored
  # the tag canarybot writes
  tag: "v1"    # keep the quotes
  pullPolicy: IfNotPresent
resources: {limits: {cpu: 500m}}
`;

const KUSTOMIZE = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml   # the Deployment

images:
  - name: registry.example.com/bookinfo/ratings
    newTag: '7'
  - name: registry.example.com/bookinfo/reviews
    # bumped by canarybot
    newTag: v1
`;

const MANIFESTS = `# two documents, the second one is ours
apiVersion: v1
kind: Service
metadata: {name: reviews}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-primary   # stable
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: istio-proxy
          image: proxy:1
        - name: reviews
          image: 'registry.example.com/bookinfo/reviews:v1'
          ports: [{containerPort: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-canary}
spec: {template: {spec: {containers: [{name: reviews, image: registry.example.com/bookinfo/reviews:v1}]}}}
`;

describe('writePin keeps every byte but the pinned value', () => {
  it.each<[string, string, GitOpsPin, string, string]>([
    ['helm: double-quoted tag keeps its quotes and its comment', HELM, helm, 'v2', HELM.replace('tag: "v1"', 'tag: "v2"')],
    ['helm: plain tag stays plain', 'image:\n  tag: v1 # x\n', helm, '0a1b2c3d', 'image:\n  tag: 0a1b2c3d # x\n'],
    ['helm: a plain tag that would read as a number gets quotes', 'image:\n  tag: v1\n', helm, '1.10', 'image:\n  tag: "1.10"\n'],
    ['helm: a numeric tag is read as its text and replaced', 'image:\n  tag: 7\n', helm, 'v8', 'image:\n  tag: v8\n'],
    ['helm: single quotes stay single', "image:\n  tag: 'v1'\n", helm, 'v2', "image:\n  tag: 'v2'\n"],
    ['helm: flow mapping', 'image: {repository: r, tag: v1}\n', helm, 'v2', 'image: {repository: r, tag: v2}\n'],
    ['helm: CRLF line ends', 'image:\r\n  tag: v1\r\n  pullPolicy: Always\r\n', helm, 'v2', 'image:\r\n  tag: v2\r\n  pullPolicy: Always\r\n'],
    ['helm: no trailing newline', 'image:\n  tag: v1', helm, 'v2', 'image:\n  tag: v2'],
    ['kustomize: the named image only, comment above kept', KUSTOMIZE, kustomize, '0a1b2c3d', KUSTOMIZE.replace('    newTag: v1', '    newTag: 0a1b2c3d')],
    ['manifest: the named Deployment and container, other documents untouched', MANIFESTS, manifest, 'registry.example.com/bookinfo/reviews:v2', MANIFESTS.replace("image: 'registry.example.com/bookinfo/reviews:v1'", "image: 'registry.example.com/bookinfo/reviews:v2'")],
  ])('%s', (_name, text, pin, value, expected) => {
    const written = writePin(text, pin, value, 'f.yaml');

    expect(written).toBe(expected);
    expect(readPin(written, pin, 'f.yaml')).toBe(value);
  });

  it('returns the same text when the value is already there', () => {
    expect(writePin(HELM, helm, 'v1', 'f.yaml')).toBe(HELM);
  });
});

describe('readPin', () => {
  it.each<[string, GitOpsPin, string]>([
    [HELM, helm, 'v1'],
    [KUSTOMIZE, kustomize, 'v1'],
    [MANIFESTS, manifest, 'registry.example.com/bookinfo/reviews:v1'],
  ])('reads the pinned value (%#)', (text, pin, value) => {
    expect(readPin(text, pin, 'f.yaml')).toBe(value);
  });

  it.each<[string, string, GitOpsPin, RegExp]>([
    ['a missing key', 'image:\n  repository: r\n', helm, /f\.yaml has no key image\.tag/],
    ['a missing parent', 'replicas: 1\n', helm, /f\.yaml has no key image$/],
    ['a mapping where the tag should be', 'image:\n  tag: {a: 1}\n', helm, /image\.tag is not a scalar value/],
    ['no images list', 'resources: []\n', kustomize, /has no images: list/],
    ['another image only', KUSTOMIZE.replace('bookinfo/reviews', 'bookinfo/details'), kustomize, /no images entry with name registry\.example\.com\/bookinfo\/reviews/],
    ['an image without newTag', 'images:\n  - name: registry.example.com/bookinfo/reviews\n    newName: x\n', kustomize, /has no newTag/],
    ['no such Deployment', MANIFESTS.replace('reviews-primary', 'other'), manifest, /has no Deployment named reviews-primary/],
    ['no such container', MANIFESTS.replace('- name: reviews\n', '- name: app\n'), manifest, /has no container named reviews/],
    ['broken YAML', 'image: [\n', helm, /is not valid YAML/],
  ])('refuses %s', (_name, text, pin, message) => {
    expect(() => readPin(text, pin, 'f.yaml')).toThrow(PinError);
    expect(() => readPin(text, pin, 'f.yaml')).toThrow(message);
  });
});

describe('image references', () => {
  it.each([
    ['registry.example.com/bookinfo/reviews:v1', 'registry.example.com/bookinfo/reviews', 'v1'],
    ['registry:5000/team/app:1.2', 'registry:5000/team/app', '1.2'],
    ['registry:5000/team/app', 'registry:5000/team/app', null],
  ])('%s', (image, repository, tag) => {
    expect(imageRepository(image)).toBe(repository);
    expect(imageTag(image)).toBe(tag);
  });
});
