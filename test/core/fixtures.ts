// Definitions and releases for the pure-core tests (no I/O).

import { createRelease } from '../../src/core/create-release.js';
import type { Definition, Step, Strategy } from '../../src/core/definition.js';
import type { CheckResult, Verdict } from '../../src/core/gate.js';
import type { Actor, Release } from '../../src/core/release.js';
import { reviewsAnalysis, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';

export const SETTLE = 5_000;
export const INTERVAL = 30_000;
export const READINESS = 600_000;
export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

export function definition(strategy: Partial<Strategy> & { steps: Step[] } = { steps: [] }, overrides: Partial<Definition> = {}): Definition {
  const fullStrategy = { kind: 'canary', ...strategy } as Strategy;
  return reviewsDefinition({
    target: reviewsTarget({ settleMs: SETTLE, readinessDeadlineMs: READINESS }),
    strategy: fullStrategy,
    analysis: reviewsAnalysis({ intervalMs: INTERVAL }),
    alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }] }],
    ...overrides,
  });
}

/** The DESIGN §4 example: 5 % → pause → analysis → 25 % → approval → 50 % → analysis → 100 %. */
export const DESIGN_STEPS: Step[] = [
  { kind: 'setWeight', weight: 5 },
  { kind: 'pause', durationMs: 120_000 },
  { kind: 'analysis' },
  { kind: 'setWeight', weight: 25 },
  { kind: 'approval' },
  { kind: 'setWeight', weight: 50 },
  { kind: 'analysis', durationMs: 300_000 },
  { kind: 'setWeight', weight: 100 },
];

export const IMAGE = 'registry.example.com/bookinfo/reviews:1a2b3c4d';

export function release(def: Definition = definition({ steps: DESIGN_STEPS }), patch: Partial<Release> = {}): Release {
  const created = createRelease(
    {
      definition: def,
      image: IMAGE,
      sha: '1a2b3c4d5e6f',
      ref: 'main',
      pipeline: { id: 77 },
      mr: { projectId: 3, iid: 12, authorUsername: 'dev' },
      actor: { username: 'dev', channel: 'gitlab' },
    },
    'rel-1',
    T0,
  );
  return { ...created, ...patch };
}

export const MIA: Actor = { username: 'mia', channel: 'gitlab', userId: 40 };

export function check(verdict: Verdict, value: number | null = verdict === 'pass' ? 99.8 : 70.1, at = T0): CheckResult {
  return {
    verdict,
    at,
    measurements: [
      { name: 'request-success-rate', verdict, value, threshold: '>= 99', ...(verdict === 'pass' ? {} : { message: `success rate ${verdict}` }) },
      { name: 'request-duration-p99', verdict: 'pass', value: 120, threshold: '<= 500' },
    ],
  };
}
