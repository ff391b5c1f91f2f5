import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { releaseRecord, reviewsAnalysis, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';

export function definitionFixture(overrides: Partial<Definition> = {}): Definition {
  return reviewsDefinition({
    target: reviewsTarget({ settleMs: 0 }),
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] },
    analysis: reviewsAnalysis({ intervalMs: 1000, count: 1, minRequests: 0, metrics: [] }),
    notify: { slack: { channel: '#releases' }, mattermost: { channel: 'releases' } },
    ...overrides,
  });
}

let sequence = 0;

export function releaseFixture(overrides: Partial<Release> = {}): Release {
  sequence += 1;
  const definition = overrides.definition ?? definitionFixture();
  return releaseRecord({
    id: `rel-${sequence}`,
    definition,
    cluster: definition.target.clusters[0]!,
    image: `${definition.trigger.image}:abc12345`,
    sha: 'abc12345abc12345abc12345abc12345abc12345',
    pipeline: { id: 7 },
    mr: { projectId: 10, iid: 3, authorUsername: 'dora', url: 'https://gitlab.example.com/bookinfo/reviews/-/merge_requests/3' },
    state: 'awaiting-approval',
    stepIndex: 1,
    weights: { stable: 75, canary: 25 },
    traffic: { ...ALL_STABLE, weights: { stable: 75, canary: 25 } },
    ...overrides,
  });
}
