// Issue 13 defect 1: a transient result of any effect is retried (capped full-jitter backoff, the
// same effect again from a tick), never final; only a permanent error ends a step. Tables against
// the pure core: classification, then (state, result) → (state, phase, wait, effects).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs } from '../../src/core/backoff.js';
import { decide } from '../../src/core/decide.js';
import { classifyEffectResult, EFFECT_RETRY, type EffectResultClass } from '../../src/core/decide/effect-retry.js';
import type { Effect } from '../../src/core/effect.js';
import type { EffectOutcome, Input } from '../../src/core/input.js';
import type { Release } from '../../src/core/release.js';
import { isLive } from '../../src/core/release.js';
import { ALL_STABLE, type TrafficState } from '../../src/core/traffic.js';
import { DESIGN_STEPS, IMAGE, T0, definition, release } from './fixtures.js';

const NOW = T0 + 1_000_000;
const def = definition({ steps: DESIGN_STEPS });
type Fx = Extract<Input, { type: 'effect-result' }>['effect'];
const weight = (canary: number): TrafficState => ({ ...ALL_STABLE, weights: { stable: 100 - canary, canary } });

function at(state: Release['state'], phase: string, stepIndex: number, patch: Partial<Release> = {}): Release {
  const canary = [5, 5, 5, 25, 25, 50, 50, 100][stepIndex] ?? 0;
  return release(def, {
    state, phase, stepIndex, weights: weight(canary).weights, traffic: weight(canary), stepStartedAt: NOW - 60_000,
    trafficChangedAt: NOW - 60_000, rollbackOutcome: state === 'rolling-back' ? 'rolled-back' : null,
    reason: state === 'rolling-back' ? 'alert X fired' : null, ...patch,
  });
}

const result = (effect: Fx, outcome: EffectOutcome): Input => ({ type: 'effect-result', effect, ...outcome });
const DOWN: EffectOutcome = { outcome: 'transient', code: 'K8S_UNAVAILABLE', message: 'patch VirtualService reviews: HTTP 503' };
const CONFLICT: EffectOutcome = { outcome: 'transient', code: 'K8S_CONFLICT', message: 'the object has been modified' };

describe('effect-result classification', () => {
  const rows: Array<[string, EffectOutcome, EffectResultClass]> = [
    ['ok', { outcome: 'ok' }, 'done'],
    ['progressing', { outcome: 'progressing', message: '1 of 2 ready' }, 'progressing'],
    ['network error / 5xx / 429 (K8S_UNAVAILABLE)', DOWN, 'retry'],
    ['409 conflict (K8S_CONFLICT)', CONFLICT, 'retry'],
    ['a transient code reported as terminal is still retried', { outcome: 'terminal', code: 'K8S_UNAVAILABLE', message: 'x' }, 'retry'],
    ['GitLab outage code', { outcome: 'transient', code: 'GITLAB_UNAVAILABLE', message: 'x' }, 'retry'],
    ['404 (K8S_NOT_FOUND)', { outcome: 'terminal', code: 'K8S_NOT_FOUND', message: 'x' }, 'permanent'],
    ['403 (K8S_FORBIDDEN)', { outcome: 'terminal', code: 'K8S_FORBIDDEN', message: 'x' }, 'permanent'],
    ['422/400 (K8S_INVALID)', { outcome: 'terminal', code: 'K8S_INVALID', message: 'x' }, 'permanent'],
    ['rollout failed', { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: 'x' }, 'permanent'],
    ['pre-flight mismatch', { outcome: 'terminal', code: 'PREFLIGHT_FAILED', message: 'x' }, 'permanent'],
    ['an internal error', { outcome: 'terminal', code: 'INTERNAL', message: 'x' }, 'permanent'],
    ['an unknown code', { outcome: 'terminal', code: 'NO_SUCH_CODE', message: 'x' }, 'permanent'],
  ];
  it.each(rows)('%s → %s', (_name, outcome, expected) => {
    expect(classifyEffectResult(outcome)).toBe(expected);
  });
});

interface Expected {
  state: Release['state'];
  phase: string;
  wait: string;
  /** The effect a due tick runs again. */
  again: Effect;
}

const retried: Array<[string, Release, Fx, Expected]> = [
  ['pre-flight retries', at('pending', 'preflight', -1), 'preflight',
    { state: 'pending', phase: 'preflight', wait: 'retry', again: { type: 'preflight' } }],
  ['the canary deploy retries', at('deploying', 'canary', -1, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, deadlineAt: NOW + 5_000 }), 'ensure-canary',
    { state: 'deploying', phase: 'canary', wait: 'retry', again: { type: 'ensure-canary', image: IMAGE } }],
  ['a progressing traffic write waits and retries, it does not roll back', at('progressing', 'traffic', 3), 'set-traffic',
    { state: 'progressing', phase: 'traffic', wait: 'retry', again: { type: 'set-traffic', traffic: weight(25) } }],
  ["promotion's stable image retries", at('promoting', 'stable', 7), 'ensure-stable',
    { state: 'promoting', phase: 'stable', wait: 'retry', again: { type: 'ensure-stable', image: IMAGE } }],
  ["promotion's traffic write retries", at('promoting', 'traffic', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), 'set-traffic',
    { state: 'promoting', phase: 'traffic', wait: 'retry', again: { type: 'set-traffic', traffic: ALL_STABLE } }],
  ["promotion's scale-down retries (never succeeded while the canary runs)", at('promoting', 'scale-down', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), 'scale-canary',
    { state: 'promoting', phase: 'scale-down', wait: 'retry', again: { type: 'scale-canary', replicas: 0 } }],
  ["the rollback's traffic write retries until it lands", at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), 'set-traffic',
    { state: 'rolling-back', phase: 'traffic', wait: 'rollback-blocked', again: { type: 'set-traffic', traffic: ALL_STABLE } }],
  ["the rollback's stable restore retries", at('rolling-back', 'restore', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, restoreStable: true, stableImageBefore: 'reviews:old', deadlineAt: NOW + 5_000 }), 'ensure-stable',
    { state: 'rolling-back', phase: 'restore', wait: 'rollback-blocked', again: { type: 'ensure-stable', image: 'reviews:old' } }],
  ["the rollback's scale-down retries", at('rolling-back', 'scale-down', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), 'scale-canary',
    { state: 'rolling-back', phase: 'scale-down', wait: 'rollback-blocked', again: { type: 'scale-canary', replicas: 0 } }],
];

describe('decide: a transient result is retried with backoff, from the same phase', () => {
  it.each(retried)('%s', (_name, before, effect, expected) => {
    for (const outcome of [DOWN, CONFLICT]) {
      const first = decide(before, result(effect, outcome), NOW);
      expect(first.next.state).toBe(expected.state);
      expect(first.next.phase).toBe(expected.phase);
      expect(first.next.effectRetries).toBe(1);
      expect(first.next.wait).toMatchObject({ kind: expected.wait, since: NOW, until: null, link: null });
      expect(first.next.wait?.sentence).toContain(`(${outcome.outcome === 'transient' ? outcome.message : ''} (${outcome.outcome === 'transient' ? outcome.code : ''}))`);
      expect(first.next.audit.at(-1)).toMatchObject({ action: expected.wait, at: NOW });
      const tick = first.effects.find((e) => e.type === 'schedule-tick');
      const wakeAt = first.next.wakeAt ?? 0;
      expect(tick).toEqual({ type: 'schedule-tick', at: wakeAt, key: first.next.wakeKey });
      expect(wakeAt - NOW).toBeGreaterThanOrEqual(0);
      expect(wakeAt - NOW).toBeLessThan(backoffCeilingMs(1, EFFECT_RETRY));
      expect(first.effects).toEqual([
        { type: 'report', event: 'waiting' },
        ...(expected.wait === 'rollback-blocked' ? [{ type: 'notify', event: 'waiting' }] : []),
        tick,
      ]);

      // The due tick runs the same effect again; its second failure backs off further, told once.
      const again = decide(first.next, { type: 'tick', key: first.next.wakeKey ?? '' }, wakeAt);
      expect(again.effects).toEqual([expected.again]);
      const second = decide(again.next, result(effect, outcome), wakeAt + 1);
      expect(second.next.effectRetries).toBe(2);
      expect(second.next.wait?.since).toBe(NOW);
      expect(second.effects.filter((e) => e.type === 'report' || e.type === 'notify')).toEqual([]);
      expect((second.next.wakeAt ?? 0) - (wakeAt + 1)).toBeLessThan(backoffCeilingMs(2, EFFECT_RETRY));
    }
  });

  it('the delay is capped and jittered: 30 failures never wait past the cap, and differ between releases', () => {
    let current = at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE });
    let other = { ...current, id: 'rel-2' };
    let now = NOW;
    const delays: number[] = [];
    const otherDelays: number[] = [];
    for (let i = 0; i < 30; i++) {
      const next = decide(current, result('set-traffic', DOWN), now).next;
      const nextOther = decide(other, result('set-traffic', DOWN), now).next;
      delays.push((next.wakeAt ?? 0) - now);
      otherDelays.push((nextOther.wakeAt ?? 0) - now);
      now = next.wakeAt ?? now;
      current = decide(next, { type: 'tick', key: next.wakeKey ?? '' }, now).next;
      other = decide(nextOther, { type: 'tick', key: nextOther.wakeKey ?? '' }, now).next;
    }
    expect(Math.max(...delays)).toBeLessThan(EFFECT_RETRY.capMs);
    expect(current.state).toBe('rolling-back');
    expect(current.effectRetries).toBe(30);
    expect(delays).not.toEqual(otherDelays);
  });

  it('when the write lands the wait ends, the audit says after how many tries, and the rollback goes on', () => {
    const blocked = decide(at('rolling-back', 'traffic', 2, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), result('set-traffic', DOWN), NOW).next;
    const landed = decide(blocked, result('set-traffic', { outcome: 'ok' }), NOW + 300);
    expect(landed.next.wait).toBeNull();
    expect(landed.next.effectRetries).toBe(0);
    expect(landed.next.phase).toBe('settle');
    expect(landed.next.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['rollback-blocked', 'rollback-unblocked']));
    expect(landed.effects[0]).toEqual({ type: 'report', event: 'progress' });
  });

  it('an abort during a retry wait starts the rollback with a fresh count', () => {
    const waiting = decide(at('progressing', 'traffic', 3), result('set-traffic', DOWN), NOW).next;
    const aborted = decide(waiting, { type: 'command', verb: 'abort', actor: { username: 'mia', channel: 'gitlab' }, releaseId: waiting.id, stepIndex: 3 }, NOW + 10);
    expect(aborted.next.state).toBe('rolling-back');
    expect(aborted.next.wait ?? null).toBeNull();
    expect(aborted.next.effectRetries).toBe(0);
    expect(aborted.effects[0]).toEqual({ type: 'set-traffic', traffic: ALL_STABLE });
  });
});

describe('decide: only a permanent error ends a step', () => {
  const forbidden: EffectOutcome = { outcome: 'terminal', code: 'K8S_FORBIDDEN', message: 'deployments.apps is forbidden' };
  it('a refused promotion scale-down fails the release, never succeeded, and says the canary still runs', () => {
    const { next } = decide(at('promoting', 'scale-down', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }), result('scale-canary', forbidden), NOW);
    expect(next.state).toBe('failed');
    expect(next.reason).toContain('the canary could not be scaled down and still runs');
  });

  it('a promotion scale-down that finds no canary Deployment (404) is done: nothing runs', () => {
    const { next } = decide(at('promoting', 'scale-down', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE }),
      result('scale-canary', { outcome: 'terminal', code: 'K8S_NOT_FOUND', message: 'not found' }), NOW);
    expect(next.state).toBe('succeeded');
  });

  it('a refused progressing traffic write rolls back', () => {
    const { next } = decide(at('progressing', 'traffic', 3), result('set-traffic', forbidden), NOW);
    expect(next.state).toBe('rolling-back');
  });
});

describe('decide: property — a transient result never ends a release', () => {
  const live = fc.constantFrom<[Release['state'], string, number, Fx]>(
    ['pending', 'preflight', -1, 'preflight'],
    ['deploying', 'canary', -1, 'ensure-canary'],
    ['progressing', 'traffic', 0, 'set-traffic'],
    ['promoting', 'stable', 7, 'ensure-stable'],
    ['promoting', 'traffic', 7, 'set-traffic'],
    ['promoting', 'scale-down', 7, 'scale-canary'],
    ['rolling-back', 'traffic', 2, 'set-traffic'],
    ['rolling-back', 'scale-down', 2, 'scale-canary'],
  );
  const outcome = fc.constantFrom<EffectOutcome>(DOWN, CONFLICT, { outcome: 'transient', code: 'K8S_UNAVAILABLE', message: 'ECONNRESET' });
  it('any number of transient failures, with ticks in between, leaves the release live in its phase', () => {
    fc.assert(fc.property(live, fc.array(outcome, { minLength: 1, maxLength: 25 }), ([state, phase, step, effect], outcomes) => {
      let current = at(state, phase, step, { deadlineAt: NOW - 1 });
      let now = NOW;
      for (const o of outcomes) {
        current = decide(current, result(effect, o), now).next;
        expect(isLive(current.state)).toBe(true);
        expect(current.state).toBe(state);
        now = current.wakeAt ?? now;
        current = decide(current, { type: 'tick', key: current.wakeKey ?? '' }, now).next;
      }
    }));
  });
});
