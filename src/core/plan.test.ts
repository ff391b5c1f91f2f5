import { describe, expect, it } from 'vitest';
import type { Definition, Step, Strategy } from './definition.js';
import { minimumReleaseMs, planSteps } from './plan.js';
import { ALL_STABLE } from './traffic.js';

function definition(strategy: Strategy, alerts = false): Definition {
  return {
    name: 'reviews',
    trigger: { project: 'bookinfo/reviews', branch: 'main', image: 'registry.example.com/reviews', tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'], namespace: 'bookinfo', virtualService: 'reviews', host: 'reviews',
      stable: { subset: 'stable', deployment: 'reviews-primary', container: 'reviews' },
      canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
      settleMs: 5000, readinessDeadlineMs: 600_000,
    },
    strategy,
    analysis: {
      intervalMs: 30_000, windowMs: 60_000, count: 3, failureLimit: 0, inconclusiveLimit: 3, consecutiveErrorLimit: 4, minRequests: 20,
      metrics: [{ name: 'request-success-rate', min: 99 }, { name: 'request-duration-p99', max: 500 }],
    },
    alerts: alerts ? [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }] }] : [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
  };
}

const weights = (canary: number) => ({ stable: 100 - canary, canary });

describe('planSteps', () => {
  it('plans the DESIGN example: traffic, minimum durations and gates per step', () => {
    const steps: Step[] = [
      { kind: 'setWeight', weight: 5 },
      { kind: 'pause', durationMs: 120_000 },
      { kind: 'analysis' },
      { kind: 'setWeight', weight: 25 },
      { kind: 'approval' },
      { kind: 'setWeight', weight: 50 },
      { kind: 'analysis', durationMs: 300_000 },
      { kind: 'webhook', name: 'smoke', url: 'https://smoke.example/run', timeoutMs: 10_000 },
      { kind: 'pause' },
      { kind: 'setWeight', weight: 100 },
    ];

    const plan = planSteps(definition({ kind: 'canary', steps }, true));

    expect(plan.map((p) => p.traffic.weights.canary)).toEqual([5, 5, 5, 25, 25, 50, 50, 50, 50, 100]);
    expect(plan.map((p) => p.minDurationMs)).toEqual([5000, 120_000, 90_000, 5000, 0, 5000, 300_000, 0, 0, 5000]);
    expect(plan.map((p) => p.gates)).toEqual([
      [], [], ['analysis ×3 (request-success-rate ≥ 99, request-duration-p99 ≤ 500, alerts)'], [], ['approval'], [],
      ['analysis ×10 (request-success-rate ≥ 99, request-duration-p99 ≤ 500, alerts)'], ['webhook smoke'], ['resume'], [],
    ]);
    expect(plan.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(minimumReleaseMs(plan)).toBe(5000 * 4 + 120_000 + 90_000 + 300_000);
  });

  it('uses the step overrides of an analysis: count and metrics', () => {
    const plan = planSteps(definition({ kind: 'canary', steps: [{ kind: 'analysis', count: 5, metrics: [{ name: 'custom-errors', query: 'x', max: 0.1, maxDegradation: 20 }] }] }));

    expect(plan[0]?.gates).toEqual(['analysis ×5 (custom-errors ≤ 0.1, degradation ≤ 20)']);
    expect(plan[0]?.minDurationMs).toBe(150_000);
  });

  it('abTest: the match route from the first step, weights stay 100/0', () => {
    const match = [{ headers: { 'x-user-group': { exact: 'beta' } } }, { cookies: { canary: 'yes' } }];

    const plan = planSteps(definition({ kind: 'abTest', match, steps: [{ kind: 'analysis' }, { kind: 'approval' }] }));

    expect(plan.map((p) => p.traffic)).toEqual([{ ...ALL_STABLE, abMatch: match }, { ...ALL_STABLE, abMatch: match }]);
  });

  it('mirror: setMirror keeps the weights, a later setWeight moves them and clears the mirror', () => {
    const steps: Step[] = [{ kind: 'setMirror', percent: 20 }, { kind: 'analysis' }, { kind: 'setMirror', percent: 50 }, { kind: 'setWeight', weight: 10 }];

    const plan = planSteps(definition({ kind: 'mirror', steps }));

    expect(plan.map((p) => [p.traffic.weights, p.traffic.mirrorPercent])).toEqual([
      [weights(0), 20], [weights(0), 20], [weights(0), 50], [weights(10), 0],
    ]);
  });

  it('blueGreen: a preview route from the start, 100/0 until promotion', () => {
    const preview = { header: 'x-preview', value: '1' };

    const plan = planSteps(definition({ kind: 'blueGreen', preview, steps: [{ kind: 'analysis' }, { kind: 'approval' }] }));

    expect(plan.map((p) => p.traffic)).toEqual([{ ...ALL_STABLE, preview }, { ...ALL_STABLE, preview }]);
  });

  it.each([
    [150, 100],
    [-20, 0],
    [33.4, 33],
    [Number.NaN, 0],
  ])('keeps a weight of %d within 0..100 as an integer (%d)', (weight, canary) => {
    const plan = planSteps(definition({ kind: 'canary', steps: [{ kind: 'setWeight', weight }] }));

    expect(plan[0]?.traffic.weights).toEqual(weights(canary));
  });
});
