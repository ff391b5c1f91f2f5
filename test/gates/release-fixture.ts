import type { AnalysisSpec, Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';

/** A release of `reviews` whose canary and stable Deployments are the given workloads. */
export function gateRelease(options: { canary: string; stable: string; namespace?: string; definition?: Partial<Definition> }): Release {
  const namespace = options.namespace ?? 'bookinfo';
  const definition = reviewsDefinition({
    target: reviewsTarget({
      namespace,
      stable: { subset: 'stable', deployment: options.stable, container: 'reviews' },
      canary: { subset: 'canary', deployment: options.canary, container: 'reviews' },
    }),
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis' }] },
    analysis: analysisSpec(),
    ...options.definition,
  });
  return releaseRecord({
    definition,
    service: 'reviews',
    namespace,
    image: 'registry.example.com/bookinfo/reviews:abcdef12',
    pipeline: { id: 42 },
    mr: { projectId: 7, iid: 3, url: 'https://gitlab.example.com/bookinfo/reviews/-/merge_requests/3' },
    state: 'progressing',
    stepIndex: 1,
    weights: { stable: 80, canary: 20 },
    traffic: { weights: { stable: 80, canary: 20 }, mirrorPercent: 0, abMatch: null, preview: null },
  });
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
