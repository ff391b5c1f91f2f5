// Table tests of the pure release core: each row is (release, input, now) → (state, phase, weights,
// exact effects). Releases are built at the state under test from the DESIGN §4 example.

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import type { Input } from '../../src/core/input.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import type { TrafficState } from '../../src/core/traffic.js';
import { IMAGE, INTERVAL, SETTLE, T0, check, definition, DESIGN_STEPS, release } from './fixtures.js';

const NOW = T0 + 1_000_000;
const def = definition({ steps: DESIGN_STEPS });
const key = (step: number, purpose: string, attempt = 1) => `rel-1_a${attempt}_c0_s${step}_${purpose}`;
const weight = (canary: number): TrafficState => ({ ...ALL_STABLE, weights: { stable: 100 - canary, canary } });
const progress = (p: Partial<NonNullable<Release['analysis']>> = {}) => ({ passed: 0, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 0, ...p });

/** The release on `stepIndex` of the DESIGN example with that step's weight in force. */
function at(state: Release['state'], phase: string, stepIndex: number, patch: Partial<Release> = {}): Release {
  const canary = [5, 5, 5, 25, 25, 50, 50, 100][stepIndex] ?? 0;
  return release(def, {
    state, phase, stepIndex, weights: weight(canary).weights, traffic: weight(canary), stepStartedAt: NOW - 60_000,
    trafficChangedAt: NOW - 60_000, ...patch,
  });
}

const analysing = (p: Partial<NonNullable<Release['analysis']>> = {}) => at('progressing', 'checking', 2, { analysis: progress(p) });
const ROLLBACK: Effect[] = [
  { type: 'set-traffic', traffic: ALL_STABLE },
  { type: 'report', event: 'rolling-back' },
  { type: 'notify', event: 'rolling-back' },
];
const ok = (effect: 'preflight' | 'ensure-canary' | 'ensure-stable' | 'set-traffic' | 'scale-canary'): Input => ({ type: 'effect-result', effect, outcome: 'ok' });
const terminal = (effect: 'preflight' | 'ensure-canary' | 'ensure-stable' | 'set-traffic' | 'scale-canary', message: string, code = 'K8S_INVALID'): Input =>
  ({ type: 'effect-result', effect, outcome: 'terminal', code, message });
const evaluate = (checkIndex: number): Effect => ({
  type: 'evaluate-gates', stepIndex: 2, check: checkIndex, analysis: { ...def.analysis, count: 3 }, metrics: def.analysis.metrics,
});

interface Expected {
  state: Release['state'];
  phase?: string;
  stepIndex?: number;
  canary?: number;
  effects: Effect[];
  reason?: string;
}

type Row = [name: string, release: Release, input: Input, expected: Expected];

const lifecycle: Row[] = [
  ['start → preflight', release(def), { type: 'start' }, { state: 'pending', phase: 'preflight', effects: [{ type: 'preflight' }] }],
  ['preflight ok → deploy the canary with a deadline', at('pending', 'preflight', -1), ok('preflight'), {
    state: 'deploying', phase: 'canary', canary: 0,
    effects: [{ type: 'ensure-canary', image: IMAGE }, { type: 'report', event: 'started' }, { type: 'notify', event: 'started' }],
  }],
  ['preflight failure → failed, no traffic effect at all', at('pending', 'preflight', -1), terminal('preflight', 'route primary not found', 'PREFLIGHT_FAILED'), {
    state: 'failed', reason: 'preflight failed on default: route primary not found (PREFLIGHT_FAILED)',
    effects: [{ type: 'report', event: 'failed' }, { type: 'notify', event: 'failed' }],
  }],
  ['canary ready → step 1 writes 5 %', at('deploying', 'canary', -1, { weights: { stable: 100, canary: 0 }, traffic: ALL_STABLE, deadlineAt: NOW + 1 }), ok('ensure-canary'), {
    state: 'progressing', phase: 'traffic', stepIndex: 0, canary: 5,
    effects: [{ type: 'report', event: 'step-started' }, { type: 'set-traffic', traffic: weight(5) }],
  }],
  ['canary progressing → poll in 2 s', at('deploying', 'canary', -1, { weights: { stable: 100, canary: 0 }, traffic: ALL_STABLE, deadlineAt: NOW + 10_000 }),
    { type: 'effect-result', effect: 'ensure-canary', outcome: 'progressing', message: '1 of 2 ready' },
    { state: 'deploying', phase: 'poll', effects: [{ type: 'schedule-tick', at: NOW + 2000, key: key(-1, `poll-${NOW}`) }] }],
  ['canary progressing past the deadline → rollback naming it', at('deploying', 'canary', -1, { weights: { stable: 100, canary: 0 }, traffic: ALL_STABLE, deadlineAt: NOW }),
    { type: 'effect-result', effect: 'ensure-canary', outcome: 'progressing', message: '1 of 2 ready' },
    { state: 'rolling-back', phase: 'traffic', canary: 0, reason: 'canary not ready within 10m: 1 of 2 ready', effects: ROLLBACK }],
  ['poll tick → ask the rollout again', at('deploying', 'poll', -1, { weights: { stable: 100, canary: 0 }, traffic: ALL_STABLE, wakeAt: NOW, deadlineAt: NOW + 5000 }),
    { type: 'tick' }, { state: 'deploying', phase: 'canary', effects: [{ type: 'ensure-canary', image: IMAGE }] }],
  ['canary rollout failed → rollback', at('deploying', 'canary', -1, { weights: { stable: 100, canary: 0 }, traffic: ALL_STABLE }),
    terminal('ensure-canary', 'ImagePullBackOff', 'ROLLOUT_FAILED'),
    { state: 'rolling-back', reason: 'canary rollout failed: ImagePullBackOff (ROLLOUT_FAILED)', effects: ROLLBACK }],
  ['traffic written → settle', at('progressing', 'traffic', 0), ok('set-traffic'),
    { state: 'progressing', phase: 'settle', canary: 5, effects: [{ type: 'schedule-tick', at: NOW + SETTLE, key: key(0, 'settle') }] }],
  ['traffic write failed → rollback', at('progressing', 'traffic', 3), terminal('set-traffic', 'admission webhook denied'),
    { state: 'rolling-back', reason: 'traffic write failed at step 4 (setWeight 25): admission webhook denied (K8S_INVALID)', effects: ROLLBACK }],
  ['early tick → wait on under a fresh key', at('progressing', 'settle', 0, { wakeAt: NOW + 10 }), { type: 'tick' },
    { state: 'progressing', phase: 'settle', effects: [{ type: 'schedule-tick', at: NOW + 10, key: `${key(0, 'wait-settle')}_r${NOW}` }] }],
  ['a stale keyed tick (replaced wait) is ignored', at('progressing', 'settle', 0, { wakeAt: NOW, wakeKey: key(0, 'settle') }), { type: 'tick', key: key(2, 'check-0') },
    { state: 'progressing', phase: 'settle', effects: [] }],
  ['a keyed tick while an effect is in flight is ignored', at('progressing', 'traffic', 0), { type: 'tick', key: key(0, 'settle') },
    { state: 'progressing', phase: 'traffic', effects: [] }],
  ['an unkeyed (recovery) tick re-drives the effect in flight', at('progressing', 'traffic', 0), { type: 'tick' },
    { state: 'progressing', phase: 'traffic', canary: 5, effects: [{ type: 'set-traffic', traffic: weight(5) }] }],
  ['the current wait\'s keyed tick acts', at('progressing', 'settle', 0, { wakeAt: NOW, wakeKey: key(0, 'settle') }), { type: 'tick', key: key(0, 'settle') }, {
    state: 'progressing', phase: 'pause', stepIndex: 1,
    effects: [{ type: 'report', event: 'step-started' }, { type: 'schedule-tick', at: NOW + 120_000, key: key(1, 'pause') }],
  }],
  ['settled → the timed pause starts', at('progressing', 'settle', 0, { wakeAt: NOW }), { type: 'tick' }, {
    state: 'progressing', phase: 'pause', stepIndex: 1, canary: 5,
    effects: [{ type: 'report', event: 'step-started' }, { type: 'schedule-tick', at: NOW + 120_000, key: key(1, 'pause') }],
  }],
  ['pause over → analysis waits one interval for its first check', at('progressing', 'pause', 1, { wakeAt: NOW }), { type: 'tick' }, {
    state: 'progressing', phase: 'analysis', stepIndex: 2,
    effects: [{ type: 'report', event: 'step-started' }, { type: 'schedule-tick', at: NOW + INTERVAL, key: key(2, 'check-0') }],
  }],
  ['check due → evaluate', at('progressing', 'analysis', 2, { wakeAt: NOW, analysis: progress() }), { type: 'tick' },
    { state: 'progressing', phase: 'checking', effects: [evaluate(0)] }],
  ['check re-driven after a crash → evaluate the same check again', analysing({ checks: 1, passed: 1 }), { type: 'tick' },
    { state: 'progressing', phase: 'checking', effects: [evaluate(1)] }],
  ['pass, not enough yet → next check an interval later', analysing(), { type: 'gate-result', stepIndex: 2, check: check('pass') },
    { state: 'progressing', phase: 'analysis', effects: [{ type: 'schedule-tick', at: NOW + INTERVAL, key: key(2, 'check-1') }, { type: 'report', event: 'progress' }] }],
  ['third pass → step 4 writes 25 %', analysing({ passed: 2, checks: 2 }), { type: 'gate-result', stepIndex: 2, check: check('pass') },
    { state: 'progressing', phase: 'traffic', stepIndex: 3, canary: 25, effects: [{ type: 'report', event: 'step-started' }, { type: 'set-traffic', traffic: weight(25) }] }],
  ['fail → rollback with the figure', analysing({ passed: 2, checks: 2 }), { type: 'gate-result', stepIndex: 2, check: check('fail', 70.1) },
    { state: 'rolling-back', phase: 'traffic', canary: 0, reason: 'request-success-rate 70.1 % < 99 % at step 3 (analysis, canary at 5 %)', effects: ROLLBACK }],
  ['inconclusive never promotes, even after enough passes', analysing({ passed: 2, inconclusive: 1, checks: 3 }), { type: 'gate-result', stepIndex: 2, check: check('inconclusive', null) },
    { state: 'progressing', phase: 'analysis', stepIndex: 2, effects: [{ type: 'schedule-tick', at: NOW + INTERVAL, key: key(2, 'check-4') }, { type: 'report', event: 'progress' }] }],
  ['inconclusive beyond inconclusiveLimit → rollback', analysing({ inconclusive: 3, checks: 3 }), { type: 'gate-result', stepIndex: 2, check: check('inconclusive', null) },
    { state: 'rolling-back', reason: '4 inconclusive checks (inconclusiveLimit 3) at step 3 (analysis, canary at 5 %): request-success-rate: success rate inconclusive', effects: ROLLBACK }],
  ['errors up to consecutiveErrorLimit → keep checking', analysing({ consecutiveErrors: 3, checks: 3 }), { type: 'gate-result', stepIndex: 2, check: check('error', null) },
    { state: 'progressing', phase: 'analysis', effects: [{ type: 'schedule-tick', at: NOW + INTERVAL, key: key(2, 'check-4') }, { type: 'report', event: 'progress' }] }],
  ['errors beyond consecutiveErrorLimit → rollback', analysing({ consecutiveErrors: 4, checks: 4 }), { type: 'gate-result', stepIndex: 2, check: check('error', null) },
    { state: 'rolling-back', reason: '5 checks in a row could not be evaluated (consecutiveErrorLimit 4) at step 3 (analysis, canary at 5 %): request-success-rate: success rate error', effects: ROLLBACK }],
  ['a result for another step is ignored', analysing(), { type: 'gate-result', stepIndex: 6, check: check('fail') }, { state: 'progressing', phase: 'checking', effects: [] }],
  ['a duplicate result (no check in flight) is ignored', at('progressing', 'analysis', 2, { analysis: progress({ checks: 1, passed: 1 }), wakeAt: NOW + 5 }),
    { type: 'gate-result', stepIndex: 2, check: check('fail') }, { state: 'progressing', phase: 'analysis', effects: [] }],
  ['settled before an approval step → awaiting approval', at('progressing', 'settle', 3, { wakeAt: NOW }), { type: 'tick' }, {
    state: 'awaiting-approval', phase: 'approval', stepIndex: 4, canary: 25,
    effects: [{ type: 'report', event: 'step-started' }, { type: 'report', event: 'approval-needed' }, { type: 'notify', event: 'approval-needed' }],
  }],
  ['tick while awaiting approval changes nothing', at('awaiting-approval', 'approval', 4), { type: 'tick' }, { state: 'awaiting-approval', effects: [] }],
  ['rollback traffic written → settle before the scale-down', at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, rollbackOutcome: 'rolled-back' }),
    ok('set-traffic'), { state: 'rolling-back', phase: 'settle', canary: 0, effects: [{ type: 'schedule-tick', at: NOW + SETTLE, key: key(2, 'rollback-settle') }] }],
  ['rollback settled → scale the canary down', at('rolling-back', 'settle', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, rollbackOutcome: 'rolled-back', wakeAt: NOW }),
    { type: 'tick' }, { state: 'rolling-back', phase: 'scale-down', effects: [{ type: 'scale-canary', replicas: 0 }] }],
  ...(['rolled-back', 'aborted', 'superseded'] as const).map((outcome): Row => [
    `scaled down → ${outcome}`, at('rolling-back', 'scale-down', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, rollbackOutcome: outcome }),
    ok('scale-canary'), { state: outcome, phase: 'done', effects: [{ type: 'report', event: outcome }, { type: 'notify', event: outcome }] },
  ]),
  ["the rollback's own traffic write is refused (permanent) → failed, saying traffic may still reach the canary", at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, rollbackOutcome: 'rolled-back', reason: 'alert X fired' }),
    terminal('set-traffic', 'forbidden', 'K8S_FORBIDDEN'),
    { state: 'failed', reason: "alert X fired; the rollback's traffic write was refused, traffic may still reach the canary: forbidden (K8S_FORBIDDEN)", effects: [{ type: 'report', event: 'failed' }, { type: 'notify', event: 'failed' }] }],
  ['last step done → promote: stable image first', at('progressing', 'settle', 7, { wakeAt: NOW }), { type: 'tick' }, {
    state: 'promoting', phase: 'stable', canary: 100, effects: [{ type: 'ensure-stable', image: IMAGE }, { type: 'report', event: 'promoting' }],
  }],
  ['stable ready → 100 % stable', at('promoting', 'stable', 7), ok('ensure-stable'), { state: 'promoting', phase: 'traffic', canary: 0, effects: [{ type: 'set-traffic', traffic: ALL_STABLE }] }],
  ['stable not ready past the deadline → rollback', at('promoting', 'stable', 7, { deadlineAt: NOW - 1 }),
    { type: 'effect-result', effect: 'ensure-stable', outcome: 'progressing', message: 'waiting for 2 old replicas' },
    { state: 'rolling-back', reason: 'stable not ready within 10m: waiting for 2 old replicas', effects: ROLLBACK }],
  ['promotion traffic written → settle', at('promoting', 'traffic', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), ok('set-traffic'),
    { state: 'promoting', phase: 'settle', effects: [{ type: 'schedule-tick', at: NOW + SETTLE, key: key(7, 'promote-settle') }] }],
  ['promotion settled → scale the canary down', at('promoting', 'settle', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, wakeAt: NOW }), { type: 'tick' },
    { state: 'promoting', phase: 'scale-down', effects: [{ type: 'scale-canary', replicas: 0 }] }],
  ['scaled down → succeeded', at('promoting', 'scale-down', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), ok('scale-canary'),
    { state: 'succeeded', phase: 'done', effects: [{ type: 'report', event: 'promoted' }, { type: 'notify', event: 'promoted' }] }],
  ['a result for an effect not in flight is ignored', at('progressing', 'settle', 3, { wakeAt: NOW + 100 }), ok('scale-canary'), { state: 'progressing', phase: 'settle', effects: [] }],
];

const interrupts: Row[] = [
  ['supersede mid-analysis → rollback, superseded', analysing({ passed: 1, checks: 1 }), { type: 'superseded', byReleaseId: 'rel-2', image: `${IMAGE}x` }, {
    state: 'rolling-back', phase: 'traffic', canary: 0, reason: `superseded by release rel-2 (${IMAGE}x) at step 3 (analysis, canary at 5 %)`, effects: ROLLBACK,
  }],
  ['alert mid-step → rollback naming the alert', at('progressing', 'settle', 3),
    { type: 'alert', name: 'HighErrorRate', labels: { alertname: 'HighErrorRate', service: 'reviews', severity: 'critical' }, startsAt: '2026-11-25T12:00:00Z', fingerprint: 'f1' },
    { state: 'rolling-back', reason: 'alert HighErrorRate fired (service=reviews, severity=critical) at step 4 (setWeight 25)', effects: ROLLBACK }],
  ['alert before preflight passed → ends without touching traffic', at('pending', 'preflight', -1),
    { type: 'alert', name: 'HighErrorRate', labels: {}, startsAt: 's', fingerprint: 'f1' },
    { state: 'rolled-back', reason: 'alert HighErrorRate fired while pending', effects: [{ type: 'report', event: 'rolled-back' }, { type: 'notify', event: 'rolled-back' }] }],
  ['alert while rolling back changes nothing', at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }),
    { type: 'alert', name: 'A', labels: {}, startsAt: 's', fingerprint: 'f' }, { state: 'rolling-back', effects: [] }],
  ...(['succeeded', 'rolled-back', 'aborted', 'superseded', 'failed'] as const).flatMap((state): Row[] => {
    const ended = at(state, 'done', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE });
    return [
      [`${state}: tick changes nothing`, ended, { type: 'tick' }, { state, effects: [] }],
      [`${state}: alert changes nothing`, ended, { type: 'alert', name: 'A', labels: {}, startsAt: 's', fingerprint: 'f' }, { state, effects: [] }],
      [`${state}: supersede changes nothing`, ended, { type: 'superseded', byReleaseId: 'rel-2', image: 'x' }, { state, effects: [] }],
      [`${state}: a late traffic result changes nothing`, ended, ok('set-traffic'), { state, effects: [] }],
    ];
  }),
];

function run(row: Row): void {
  const [, before, input, expected] = row;
  const frozen = JSON.stringify(before);

  const { next, effects } = decide(before, input, NOW);

  expect(effects).toEqual(expected.effects);
  expect(next.state).toBe(expected.state);
  if (expected.phase !== undefined) expect(next.phase).toBe(expected.phase);
  if (expected.stepIndex !== undefined) expect(next.stepIndex).toBe(expected.stepIndex);
  if (expected.canary !== undefined) expect(next.weights).toEqual({ stable: 100 - expected.canary, canary: expected.canary });
  if (expected.reason !== undefined) expect(next.reason).toBe(expected.reason);
  expect(JSON.stringify(before)).toBe(frozen);
  if (expected.effects.length === 0 && next.state === before.state) expect(next).toBe(before);
  else expect(next.updatedAt).toBe(NOW);
}

describe('decide: lifecycle', () => {
  it.each(lifecycle)('%s', (...row) => run(row));
});

describe('decide: alerts, supersede and ended releases', () => {
  it.each(interrupts)('%s', (...row) => run(row));
});
