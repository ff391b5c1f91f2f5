// A rollback during promotion puts the stable Deployment's previous image back (issue 3, DESIGN §5
// "a rollback puts 100 % on stable before anything else"): table rows (release, input) → exact
// effects, then whole sequences on the pure driver.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActingVerb } from '../../src/core/command.js';
import { decide } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import type { EffectOutcome, Input } from '../../src/core/input.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import type { TrafficState } from '../../src/core/traffic.js';
import { Driver, invariantViolations } from './driver.js';
import { DESIGN_STEPS, IMAGE, MIA, READINESS, SETTLE, T0, definition, release } from './fixtures.js';

const NOW = T0 + 1_000_000;
const OLD = 'registry.example.com/bookinfo/reviews:0f0f0f0f';
const def = definition({ steps: DESIGN_STEPS });
const key = (step: number, purpose: string) => `rel-1_a1_c0_s${step}_${purpose}`;
const weight = (canary: number): TrafficState => ({ ...ALL_STABLE, weights: { stable: 100 - canary, canary } });
type Fx = Extract<Input, { type: 'effect-result' }>['effect'];
const ok = (effect: Fx): Input => ({ type: 'effect-result', effect, outcome: 'ok' });
const terminal = (effect: Fx, message: string, code = 'ROLLOUT_FAILED'): Input => ({ type: 'effect-result', effect, outcome: 'terminal', code, message });
const progressing = (effect: Fx, message: string): Input => ({ type: 'effect-result', effect, outcome: 'progressing', message });
const command = (verb: ActingVerb, stepIndex: number): Input => ({ type: 'command', verb, actor: MIA, releaseId: 'rel-1', stepIndex });

function at(state: Release['state'], phase: string, stepIndex: number, patch: Partial<Release> = {}): Release {
  const canary = [5, 5, 5, 25, 25, 50, 50, 100][stepIndex] ?? 0;
  return release(def, {
    state, phase, stepIndex, weights: weight(canary).weights, traffic: weight(canary), stepStartedAt: NOW - 60_000,
    trafficChangedAt: NOW - 60_000, stableImageBefore: OLD, ...patch,
  });
}

/** Rolling back after the rollback's traffic write went out at `NOW - 1000`. */
const back = (phase: string, patch: Partial<Release> = {}): Release => at('rolling-back', phase, 7, {
  weights: ALL_STABLE.weights, traffic: ALL_STABLE, rollbackOutcome: 'rolled-back', reason: 'stable rollout failed during promotion: CrashLoopBackOff (ROLLOUT_FAILED)',
  restoreStable: true, trafficChangedAt: NOW - 1000, ...patch,
});

const ROLLBACK: Effect[] = [
  { type: 'set-traffic', traffic: ALL_STABLE },
  { type: 'report', event: 'rolling-back' },
  { type: 'notify', event: 'rolling-back' },
];

interface Expected {
  state: Release['state'];
  phase?: string;
  effects: Effect[];
  reason?: string;
  fields?: Partial<Release>;
  audit?: { action: string; detail?: string };
}

type Row = [name: string, release: Release, input: Input, expected: Expected];

const rows: Row[] = [
  ['preflight records the stable image before anything changes', at('pending', 'preflight', -1, { stableImageBefore: undefined }),
    { type: 'effect-result', effect: 'preflight', outcome: 'ok', stableImage: OLD }, {
      state: 'deploying', phase: 'canary', fields: { stableImageBefore: OLD }, audit: { action: 'stable-image', detail: OLD },
      effects: [{ type: 'ensure-canary', image: IMAGE }, { type: 'report', event: 'started' }, { type: 'notify', event: 'started' }],
    }],
  ['a retry finding its own image on stable keeps the earlier record', at('pending', 'preflight', -1, { attempt: 2 }),
    { type: 'effect-result', effect: 'preflight', outcome: 'ok', stableImage: IMAGE }, {
      state: 'deploying', fields: { stableImageBefore: OLD },
      audit: { action: 'stable-image', detail: `stable already runs ${IMAGE}; a rollback during promotion restores ${OLD}` },
      effects: [{ type: 'ensure-canary', image: IMAGE }, { type: 'report', event: 'started' }, { type: 'notify', event: 'started' }],
    }],
  ['promotion rollout fails → rollback, 100 % stable first, restore marked', at('promoting', 'stable', 7, { deadlineAt: NOW + 1000 }),
    terminal('ensure-stable', 'CrashLoopBackOff'), {
      state: 'rolling-back', phase: 'traffic', reason: 'stable rollout failed during promotion: CrashLoopBackOff (ROLLOUT_FAILED)',
      fields: { restoreStable: true }, effects: ROLLBACK,
    }],
  ['promotion rollout past the readiness deadline → rollback, restore marked', at('promoting', 'stable', 7, { deadlineAt: NOW - 1 }),
    progressing('ensure-stable', 'ProgressDeadlineExceeded'), {
      state: 'rolling-back', phase: 'traffic', reason: 'stable not ready within 10m: ProgressDeadlineExceeded', fields: { restoreStable: true }, effects: ROLLBACK,
    }],
  ['abort during promotion → rollback, restore marked', at('promoting', 'poll', 7, { wakeAt: NOW + 2000 }), command('abort', 7), {
    state: 'rolling-back', phase: 'traffic', fields: { restoreStable: true, rollbackOutcome: 'aborted' },
    effects: [...ROLLBACK],
  }],
  ['alert after promotion traffic → rollback, restore marked', at('promoting', 'settle', 7, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, wakeAt: NOW + 10 }),
    { type: 'alert', name: 'HighErrorRate', labels: {}, startsAt: 's', fingerprint: 'f' }, {
      state: 'rolling-back', phase: 'traffic', fields: { restoreStable: true }, effects: ROLLBACK,
    }],
  ['abort before promotion → the stable image is not to be touched', at('progressing', 'settle', 5, { wakeAt: NOW + 10 }), command('abort', 5), {
    state: 'rolling-back', phase: 'traffic', fields: { restoreStable: undefined, rollbackOutcome: 'aborted' }, effects: ROLLBACK,
  }],
  ['rollback traffic written → ensure-stable(old image) with the readiness deadline', back('traffic', { trafficChangedAt: NOW - 60_000 }), ok('set-traffic'), {
    state: 'rolling-back', phase: 'restore', fields: { deadlineAt: NOW + READINESS, trafficChangedAt: NOW },
    audit: { action: 'restoring-stable', detail: `${OLD} (the promotion had set ${IMAGE})` },
    effects: [{ type: 'ensure-stable', image: OLD }],
  }],
  ['rollback traffic written, no restore marked → settle as before', back('traffic', { restoreStable: false }), ok('set-traffic'), {
    state: 'rolling-back', phase: 'settle', effects: [{ type: 'schedule-tick', at: NOW + SETTLE, key: key(7, 'rollback-settle') }],
  }],
  ['old image unknown (older record) → settle as before, and the audit says so', back('traffic', { stableImageBefore: undefined }), ok('set-traffic'), {
    state: 'rolling-back', phase: 'settle',
    audit: { action: 'stable-not-restored', detail: `the stable image before this release is unknown (not recorded at preflight); the stable Deployment keeps ${IMAGE}` },
    effects: [{ type: 'schedule-tick', at: NOW + SETTLE, key: key(7, 'rollback-settle') }],
  }],
  ['old image back → settle counted from the traffic write', back('restore', { deadlineAt: NOW + 5000 }), ok('ensure-stable'), {
    state: 'rolling-back', phase: 'settle', fields: { deadlineAt: null }, audit: { action: 'stable-restored', detail: OLD },
    effects: [{ type: 'schedule-tick', at: NOW - 1000 + SETTLE, key: key(7, 'rollback-settle') }],
  }],
  ['old image back after settle has passed → scale-down tick at once', back('restore', { deadlineAt: NOW + 5000, trafficChangedAt: NOW - 60_000 }), ok('ensure-stable'), {
    state: 'rolling-back', phase: 'settle', effects: [{ type: 'schedule-tick', at: NOW, key: key(7, 'rollback-settle') }],
  }],
  ['restore progressing → poll in 2 s', back('restore', { deadlineAt: NOW + 5000 }), progressing('ensure-stable', '1 of 3 updated'), {
    state: 'rolling-back', phase: 'restore-poll', effects: [{ type: 'schedule-tick', at: NOW + 2000, key: key(7, `restore-poll-${NOW}`) }],
  }],
  ['restore poll tick → ask again for the old image', back('restore-poll', { deadlineAt: NOW + 5000, wakeAt: NOW }), { type: 'tick' }, {
    state: 'rolling-back', phase: 'restore', fields: { deadlineAt: NOW + 5000 }, effects: [{ type: 'ensure-stable', image: OLD }],
  }],
  ['recovery tick during the restore → the same effect again', back('restore', { deadlineAt: NOW + 5000 }), { type: 'tick' }, {
    state: 'rolling-back', phase: 'restore', effects: [{ type: 'ensure-stable', image: OLD }],
  }],
  ['restore past the readiness deadline → failed, naming both', back('restore', { deadlineAt: NOW }), progressing('ensure-stable', '1 of 3 updated'), {
    state: 'failed', phase: 'done',
    reason: `stable rollout failed during promotion: CrashLoopBackOff (ROLLOUT_FAILED); restoring the stable image ${OLD} failed: not ready within 10m: 1 of 3 updated`,
    effects: [{ type: 'report', event: 'failed' }, { type: 'notify', event: 'failed' }],
  }],
  ['restore refused → failed', back('restore', { deadlineAt: NOW + 5000 }), terminal('ensure-stable', 'forbidden', 'K8S_FORBIDDEN'), {
    state: 'failed',
    reason: `stable rollout failed during promotion: CrashLoopBackOff (ROLLOUT_FAILED); restoring the stable image ${OLD} failed: forbidden (K8S_FORBIDDEN)`,
    effects: [{ type: 'report', event: 'failed' }, { type: 'notify', event: 'failed' }],
  }],
  ['a late result of the failed promotion rollout is ignored', back('restore-poll', { deadlineAt: NOW + 5000, wakeAt: NOW + 1000 }), ok('ensure-stable'), {
    state: 'rolling-back', phase: 'restore-poll', effects: [],
  }],
  ['settled after the restore → scale the canary down', back('settle', { wakeAt: NOW }), { type: 'tick' }, {
    state: 'rolling-back', phase: 'scale-down', effects: [{ type: 'scale-canary', replicas: 0 }],
  }],
  ['promoted on the first cluster → the next cluster reads its own stable image', at('promoting', 'scale-down', 7, {
    definition: { ...def, target: { ...def.target, clusters: ['eu', 'us'] } }, cluster: 'eu', weights: ALL_STABLE.weights, traffic: ALL_STABLE,
  }), ok('scale-canary'), {
    state: 'pending', phase: 'preflight', fields: { cluster: 'us', stableImageBefore: null },
    effects: [{ type: 'preflight' }, { type: 'report', event: 'progress' }],
  }],
];

describe('decide: a rollback during promotion restores the previous stable image', () => {
  it.each(rows)('%s', (_name, before, input, expected) => {
    const frozen = JSON.stringify(before);

    const { next, effects } = decide(before, input, NOW);

    expect(effects).toEqual(expected.effects);
    expect(next.state).toBe(expected.state);
    if (expected.phase !== undefined) expect(next.phase).toBe(expected.phase);
    if (expected.reason !== undefined) expect(next.reason).toBe(expected.reason);
    for (const [field, value] of Object.entries(expected.fields ?? {})) expect(next[field as keyof Release], field).toEqual(value);
    if (expected.audit) expect(next.audit).toContainEqual(expect.objectContaining(expected.audit));
    expect(JSON.stringify(before)).toBe(frozen);
    expect(invariantViolations(next)).toEqual([]);
  });
});

/** Port effects in the order the driver executed them, from the first one after `from` on. */
function portEffects(driver: Driver, from = 0): Effect[] {
  return driver.transitions.slice(from).flatMap((t) => t.decision.effects)
    .filter((e) => e.type === 'set-traffic' || e.type === 'ensure-stable' || e.type === 'ensure-canary' || e.type === 'scale-canary');
}

const STEPS = definition({ steps: [{ kind: 'setWeight', weight: 20 }] });

describe('whole rollbacks on the driver', () => {
  it('promotion rollout fails → 100 % stable, then the old image on stable, then the canary to 0', () => {
    const rollout = (effect: string, call: number): EffectOutcome =>
      effect === 'ensure-stable' && call === 0 ? { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: 'ProgressDeadlineExceeded' } : { outcome: 'ok' };
    const driver = new Driver(release(STEPS, { stableImageBefore: OLD }), T0, { rollout });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(portEffects(driver)).toEqual([
      { type: 'ensure-canary', image: IMAGE },
      { type: 'set-traffic', traffic: weight(20) },
      { type: 'ensure-stable', image: IMAGE },
      { type: 'set-traffic', traffic: ALL_STABLE },
      { type: 'ensure-stable', image: OLD },
      { type: 'scale-canary', replicas: 0 },
    ]);
    expect(end.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['restoring-stable', 'stable-restored']));
  });

  it('abort while the promotion polls → the same order, the restore polled until ready, ending aborted', () => {
    // The promotion's rollout never gets ready; after the abort the restore answers progressing twice, then ok.
    let aborted = false;
    let restores = 0;
    const rollout = (effect: string): EffectOutcome => {
      if (effect !== 'ensure-stable') return { outcome: 'ok' };
      if (!aborted) return { outcome: 'progressing', message: 'rolling out' };
      restores += 1;
      return restores < 3 ? { outcome: 'progressing', message: 'old image rolling out' } : { outcome: 'ok' };
    };
    const driver = new Driver(release(STEPS, { stableImageBefore: OLD }), T0, { rollout });
    driver.send({ type: 'start' });
    driver.run(20, (r) => r.state === 'promoting' && r.phase === 'poll');
    expect(driver.release.state).toBe('promoting');
    const from = driver.transitions.length;

    aborted = true;
    driver.send(command('abort', driver.release.stepIndex));
    const end = driver.run();

    expect(end.state).toBe('aborted');
    expect(restores).toBe(3);
    expect(portEffects(driver, from)).toEqual([
      { type: 'set-traffic', traffic: ALL_STABLE },
      { type: 'ensure-stable', image: OLD },
      { type: 'ensure-stable', image: OLD },
      { type: 'ensure-stable', image: OLD },
      { type: 'scale-canary', replicas: 0 },
    ]);
    for (const t of driver.transitions) expect(invariantViolations(t.decision.next)).toEqual([]);
  });

  it('abort before promotion never touches the stable image', () => {
    const driver = new Driver(release(definition({ steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'pause' }] }), { stableImageBefore: OLD }), T0);
    driver.send({ type: 'start' });
    driver.run(50, (r) => r.state === 'paused');

    driver.send(command('abort', driver.release.stepIndex));
    const end = driver.run();

    expect(end.state).toBe('aborted');
    expect(portEffects(driver).filter((e) => e.type === 'ensure-stable')).toEqual([]);
    expect(driver.scaleWrites).toEqual([0]);
  });
});

describe('decide: property of a rollback that begins during promotion', () => {
  const outcome = fc.constantFrom<EffectOutcome>(
    { outcome: 'ok' }, { outcome: 'ok' }, { outcome: 'progressing', message: 'rolling out' },
    { outcome: 'transient', code: 'K8S_UNAVAILABLE', message: 'down' }, { outcome: 'terminal', code: 'ROLLOUT_FAILED', message: 'refused' },
  );
  const input = fc.oneof(
    fc.constant<Input>({ type: 'tick' }),
    fc.tuple(fc.constantFrom<Fx>('ensure-stable', 'ensure-stable', 'set-traffic', 'scale-canary'), outcome)
      .map(([effect, o]): Input => ({ type: 'effect-result', effect, ...o })),
    fc.constant<Input>(command('abort', 7)),
    fc.constant<Input>({ type: 'alert', name: 'A', labels: {}, startsAt: 's', fingerprint: 'f' }),
  );

  it('puts back only the previous image, after 100 % stable and before any scale-down', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 700_000 }), input), { minLength: 1, maxLength: 40 }), (steps) => {
        let current = at('promoting', 'stable', 7, { deadlineAt: NOW + READINESS });
        let now = NOW;
        let rollbackAt: number | null = null;
        for (const [dt, next] of steps) {
          now += dt;
          const decision = decide(current, next, now);
          expect(invariantViolations(decision.next)).toEqual([]);
          if (decision.next.state === 'rolling-back' && current.state !== 'rolling-back') {
            expect(decision.effects[0]).toEqual({ type: 'set-traffic', traffic: ALL_STABLE });
            expect(decision.next.restoreStable).toBe(true);
            rollbackAt = now;
          }
          for (const effect of decision.effects) {
            if (current.state === 'rolling-back' && effect.type === 'ensure-stable') {
              expect(effect.image).toBe(OLD);
              expect(current.trafficChangedAt).not.toBeNull();
            }
            if (current.state === 'rolling-back' && effect.type === 'scale-canary') {
              expect(decision.next.audit.filter((a) => a.at >= (rollbackAt ?? 0)).map((a) => a.action)).toContain('stable-restored');
            }
          }
          current = decision.next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
