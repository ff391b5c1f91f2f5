import type { AnalysisSpec, Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';

/** A release of `reviews` whose canary and stable Deployments are the given workloads. */
export function gateRelease(options: { canary: string; stable: string; namespace?: string; definition?: Partial<Definition> }): Release {
  const namespace = options.namespace ?? 'bookinfo';
  const definition: Definition = {
    name: 'reviews',
    trigger: { project: 'bookinfo/reviews', branch: 'main', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'],
      namespace,
      virtualService: 'reviews',
      host: 'reviews',
      stable: { subset: 'stable', deployment: options.stable, container: 'reviews' },
      canary: { subset: 'canary', deployment: options.canary, container: 'reviews' },
      settleMs: 5_000,
      readinessDeadlineMs: 600_000,
    },
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis' }] },
    analysis: analysisSpec(),
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
    ...options.definition,
  };
  return {
    id: 'rel-1',
    definition,
    service: 'reviews',
    namespace,
    cluster: 'default',
    clusterIndex: 0,
    image: 'registry.example.com/bookinfo/reviews:abcdef12',
    sha: 'abcdef1234567890',
    ref: 'main',
    pipeline: { id: 42 },
    mr: { projectId: 7, iid: 3, url: 'https://gitlab.example.com/bookinfo/reviews/-/merge_requests/3' },
    triggeredBy: null,
    state: 'progressing',
    phase: '',
    stepIndex: 1,
    stepStartedAt: 0,
    deadlineAt: null,
    trafficChangedAt: null,
    weights: { stable: 80, canary: 20 },
    traffic: { weights: { stable: 80, canary: 20 }, mirrorPercent: 0, abMatch: null, preview: null },
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
  };
}

export function analysisSpec(overrides: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    intervalMs: 10_000,
    windowMs: 10_000,
    count: 3,
    failureLimit: 0,
    inconclusiveLimit: 3,
    consecutiveErrorLimit: 4,
    minRequests: 20,
    metrics: [],
    ...overrides,
  };
}
