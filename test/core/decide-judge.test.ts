// The core's side of the judge and of a baseline: a critical judged failure fails the analysis at
// once (whatever failureLimit allows), a marginal score is inconclusive and never promotes, and with
// target.baseline every traffic write gives the baseline exactly the canary's weight.

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { CheckResult, Measurement } from '../../src/core/gate.js';
import { planSteps } from '../../src/core/plan.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { reviewsAnalysis, reviewsTarget } from '../support/release-fixture.js';
import { DESIGN_STEPS, T0, definition, release } from './fixtures.js';

const NOW = T0 + 1_000_000;
const lenient = definition({ steps: DESIGN_STEPS }, { analysis: reviewsAnalysis({ intervalMs: 30_000, failureLimit: 2 }) });

function checking(): Release {
  return release(lenient, {
    state: 'progressing',
    phase: 'checking',
    stepIndex: 2,
    weights: { stable: 95, canary: 5 },
    traffic: { ...ALL_STABLE, weights: { stable: 95, canary: 5 } },
    analysis: { passed: 0, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 0 },
    stepStartedAt: NOW - 60_000,
    trafficChangedAt: NOW - 60_000,
  });
}

function judged(verdict: Measurement['verdict'], score: number, critical = false): CheckResult {
  return {
    verdict,
    at: NOW,
    measurements: [
      { name: 'request-success-rate', verdict: 'pass', value: 99.9, threshold: '>= 99' },
      {
        name: 'judge',
        verdict,
        value: score,
        threshold: 'score >= 95 (marginal >= 75)',
        message: `score ${score} against reviews-baseline: request-success-rate low${critical ? ' (critical)' : ''} (shift -2.1 [-3, -1.2], meanRatio 0.98)`,
        ...(critical ? { critical: true } : {}),
      },
    ],
  };
}

describe('decide: judged checks', () => {
  it('counts an ordinary judged failure against failureLimit', () => {
    const { next } = decide(checking(), { type: 'gate-result', stepIndex: 2, check: judged('fail', 50) }, NOW);

    expect(next.state).toBe('progressing');
    expect(next.analysis).toMatchObject({ failed: 1 });
  });

  it('rolls back at once on a critical judged failure, with the judge\'s figures as the reason', () => {
    const { next, effects } = decide(checking(), { type: 'gate-result', stepIndex: 2, check: judged('fail', 0, true) }, NOW);

    expect(next.state).toBe('rolling-back');
    expect(next.reason).toBe(
      'judge score 0 against reviews-baseline: request-success-rate low (critical) (shift -2.1 [-3, -1.2], meanRatio 0.98) at step 3 (analysis, canary at 5 %) (critical: fails the analysis at once)',
    );
    expect(effects[0]).toEqual({ type: 'set-traffic', traffic: ALL_STABLE });
  });

  it('never promotes on a marginal score: it is inconclusive', () => {
    const enough = { ...checking(), analysis: { passed: 2, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 2 } };

    const { next } = decide(enough, { type: 'gate-result', stepIndex: 2, check: judged('inconclusive', 80) }, NOW);

    expect(next.stepIndex).toBe(2);
    expect(next.analysis).toMatchObject({ passed: 2, inconclusive: 1 });
  });
});

describe('plan: a baseline at the canary\'s weight', () => {
  const withBaseline = (kind: 'canary' | 'abTest' | 'blueGreen', steps = DESIGN_STEPS.map((s) => (s.kind === 'setWeight' ? { ...s, weight: Math.min(s.weight, 50) } : s))) =>
    definition(
      kind === 'abTest' ? { kind, match: [{ headers: { 'x-beta': { exact: '1' } } }], steps: steps.filter((s) => s.kind !== 'setWeight') } : { kind, steps } as never,
      { target: reviewsTarget({ baseline: { deployment: 'reviews-baseline', subset: 'baseline' } }) },
    );

  it('gives the baseline exactly the canary\'s weight on every step, stable the rest', () => {
    const plan = planSteps(withBaseline('canary'));

    expect(plan.map((p) => p.traffic.weights)).toEqual([
      { stable: 90, canary: 5, baseline: 5 },
      { stable: 90, canary: 5, baseline: 5 },
      { stable: 90, canary: 5, baseline: 5 },
      { stable: 50, canary: 25, baseline: 25 },
      { stable: 50, canary: 25, baseline: 25 },
      { stable: 0, canary: 50, baseline: 50 },
      { stable: 0, canary: 50, baseline: 50 },
      { stable: 0, canary: 50, baseline: 50 },
    ]);
  });

  it('shares the A/B route from the start, and ends the comparison at a blue/green switch', () => {
    const ab = planSteps(withBaseline('abTest'));
    const bg = planSteps(withBaseline('blueGreen', [{ kind: 'analysis' }, { kind: 'setWeight', weight: 100 }]));

    expect(ab[0]!.traffic.weights).toEqual({ stable: 100, canary: 0, baseline: 0 });
    expect(ab[0]!.traffic.abMatch).not.toBeNull();
    expect(bg.map((p) => p.traffic.weights)).toEqual([{ stable: 100, canary: 0, baseline: 0 }, { stable: 0, canary: 100, baseline: 0 }]);
  });

  it('writes the baseline\'s weight with the canary\'s and takes it away on rollback', () => {
    const def = withBaseline('canary');
    const entering = release(def, { state: 'deploying', phase: 'canary', deadlineAt: NOW + 1 });

    const first = decide(entering, { type: 'effect-result', effect: 'ensure-canary', outcome: 'ok' }, NOW);
    const rolledBack = decide(first.next, { type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: 'rel-1', stepIndex: 0 }, NOW);

    expect(first.effects).toContainEqual({ type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 90, canary: 5, baseline: 5 } } });
    expect(rolledBack.effects[0]).toEqual({ type: 'set-traffic', traffic: ALL_STABLE });
  });
});
