// Shared builders for the bookinfo `reviews` Definition and a hand-built Release record. Every call
// returns fresh objects; per-folder fixtures wrap these with the defaults their tests rely on.

import type { AnalysisSpec, Definition, TargetSpec } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';

/** The `reviews` target: primary/canary Deployments in `bookinfo`, 5 s settle, 10 min readiness. */
export function reviewsTarget(overrides: Partial<TargetSpec> = {}): TargetSpec {
  return {
    clusters: ['default'],
    namespace: 'bookinfo',
    virtualService: 'reviews',
    host: 'reviews',
    stable: { subset: 'stable', deployment: 'reviews-primary', container: 'reviews' },
    canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
    settleMs: 5000,
    readinessDeadlineMs: 600_000,
    ...overrides,
  };
}

/** Analysis every 30 s over a 60 s window, 3 checks, success rate ≥ 99 and p99 ≤ 500. */
export function reviewsAnalysis(overrides: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
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
    ...overrides,
  };
}

/** The bookinfo `reviews` definition; top-level fields are replaced by `overrides`. */
export function reviewsDefinition(overrides: Partial<Definition> = {}): Definition {
  return {
    name: 'reviews',
    trigger: { project: 'bookinfo/reviews', branch: 'main', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
    target: reviewsTarget(),
    strategy: { kind: 'canary', steps: [] },
    analysis: reviewsAnalysis(),
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
    ...overrides,
  };
}

/**
 * A pending Release record of `definition` (default: `reviewsDefinition()`), with all traffic on
 * stable and nothing recorded yet; any field is replaced by `overrides`.
 */
export function releaseRecord(overrides: Partial<Release> = {}): Release {
  const definition = overrides.definition ?? reviewsDefinition();
  return {
    id: 'rel-1',
    definition,
    service: definition.name,
    namespace: definition.target.namespace,
    cluster: 'default',
    clusterIndex: 0,
    image: `${definition.trigger.image}:abcdef12`,
    sha: 'abcdef1234567890',
    ref: 'main',
    pipeline: { id: 1 },
    mr: null,
    triggeredBy: null,
    state: 'pending',
    phase: '',
    stepIndex: -1,
    stepStartedAt: 0,
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
    createdAt: 0,
    updatedAt: 0,
    endedAt: null,
    ...overrides,
  };
}
