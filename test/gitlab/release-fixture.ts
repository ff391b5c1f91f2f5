// Hand-built Definition and Release records for the GitLab write-back tests.

import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { releaseRecord, reviewsDefinition } from '../support/release-fixture.js';

export const T0 = Date.parse('2026-03-02T10:00:00Z');
export const SHA = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';

export function definition(overrides: Partial<Definition> = {}): Definition {
  return reviewsDefinition({
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
    approvals: { minAccessLevel: 'maintainer', users: ['carol'], groups: [], allowAuthor: false },
    ...overrides,
  });
}

export function release(overrides: Partial<Release> = {}): Release {
  return releaseRecord({
    id: 'rel-reviews-0001',
    definition: overrides.definition ?? definition(),
    image: 'registry.example.com/bookinfo/reviews:9f8e7d6c',
    sha: SHA,
    pipeline: { id: 812, url: 'https://gitlab.example.com/bookinfo/reviews/-/pipelines/812' },
    mr: { projectId: 42, iid: 7, authorUsername: 'bob' },
    stepStartedAt: T0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  });
}
