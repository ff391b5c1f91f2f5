import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';

export function definitionFixture(overrides: Partial<Definition> = {}): Definition {
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
      settleMs: 0,
      readinessDeadlineMs: 600_000,
    },
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] },
    analysis: { intervalMs: 1000, windowMs: 60_000, count: 1, failureLimit: 0, inconclusiveLimit: 3, consecutiveErrorLimit: 4, minRequests: 0, metrics: [] },
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: { slack: { channel: '#releases' }, mattermost: { channel: 'releases' } },
    ...overrides,
  };
}

let sequence = 0;

export function releaseFixture(overrides: Partial<Release> = {}): Release {
  sequence += 1;
  const definition = overrides.definition ?? definitionFixture();
  return {
    id: `rel-${sequence}`,
    definition,
    service: definition.name,
    namespace: definition.target.namespace,
    cluster: definition.target.clusters[0]!,
    clusterIndex: 0,
    image: `${definition.trigger.image}:abc12345`,
    sha: 'abc12345abc12345abc12345abc12345abc12345',
    ref: 'main',
    pipeline: { id: 7 },
    mr: { projectId: 10, iid: 3, authorUsername: 'dora', url: 'https://gitlab.example.com/bookinfo/reviews/-/merge_requests/3' },
    triggeredBy: null,
    state: 'awaiting-approval',
    phase: '',
    stepIndex: 1,
    stepStartedAt: 0,
    deadlineAt: null,
    trafficChangedAt: null,
    weights: { stable: 75, canary: 25 },
    traffic: { ...ALL_STABLE, weights: { stable: 75, canary: 25 } },
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
