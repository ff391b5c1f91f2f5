// Hand-built Definition and Release records for the GitLab write-back tests.

import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';

export const T0 = Date.parse('2026-03-02T10:00:00Z');
export const SHA = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';

export function definition(overrides: Partial<Definition> = {}): Definition {
  return {
    name: 'reviews',
    trigger: { project: 'bookinfo/reviews', branch: 'main', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'],
      namespace: 'bookinfo',
      virtualService: 'reviews',
      host: 'reviews',
      stable: { subset: 'stable', deployment: 'reviews-primary', container: 'reviews' },
      canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
      settleMs: 5000,
      readinessDeadlineMs: 600_000,
    },
    strategy: {
      kind: 'canary',
      steps: [
        { kind: 'setWeight', weight: 5 },
        { kind: 'analysis' },
        { kind: 'setWeight', weight: 25 },
        { kind: 'approval' },
        { kind: 'webhook', name: 'smoke', url: 'https://hooks.example.com/smoke?token=hook-s3cr3t', timeoutMs: 5000, bearerEnv: 'SMOKE_TOKEN' },
        { kind: 'setWeight', weight: 100 },
      ],
    },
    analysis: {
      intervalMs: 30_000,
      windowMs: 60_000,
      count: 3,
      failureLimit: 0,
      inconclusiveLimit: 3,
      consecutiveErrorLimit: 4,
      minRequests: 20,
      metrics: [
        { name: 'request-success-rate', min: 99 },
        { name: 'request-duration-p99', max: 500 },
      ],
    },
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: ['carol'], groups: [], allowAuthor: false },
    notify: {},
    ...overrides,
  };
}

export function release(overrides: Partial<Release> = {}): Release {
  const def = overrides.definition ?? definition();
  return {
    id: 'rel-reviews-0001',
    definition: def,
    service: def.name,
    namespace: def.target.namespace,
    cluster: 'default',
    clusterIndex: 0,
    image: 'registry.example.com/bookinfo/reviews:9f8e7d6c',
    sha: SHA,
    ref: 'main',
    pipeline: { id: 812, url: 'https://gitlab.example.com/bookinfo/reviews/-/pipelines/812' },
    mr: { projectId: 42, iid: 7, authorUsername: 'bob' },
    triggeredBy: null,
    state: 'pending',
    phase: '',
    stepIndex: -1,
    stepStartedAt: T0,
    deadlineAt: null,
    trafficChangedAt: null,
    weights: { stable: 100, canary: 0 },
    traffic: { weights: { stable: 100, canary: 0 }, mirrorPercent: 0, abMatch: null, preview: null },
    analysis: null,
    approvals: [],
    rollbackOutcome: null,
    reason: null,
    gates: [],
    audit: [],
    timeline: [],
    attempt: 1,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    endedAt: null,
    ...overrides,
  };
}
