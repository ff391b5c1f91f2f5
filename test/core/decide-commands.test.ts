// Commands against the pure core: approvals bound to release and step, promote, abort, pause/resume, retry.

import { describe, expect, it } from 'vitest';
import type { ActingVerb } from '../../src/core/command.js';
import { decide } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import type { Input } from '../../src/core/input.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import type { TrafficState } from '../../src/core/traffic.js';
import { Driver } from './driver.js';
import { DESIGN_STEPS, IMAGE, MIA, T0, check, definition, release } from './fixtures.js';

const NOW = T0 + 1_000_000;
const def = definition({ steps: DESIGN_STEPS });
const weight = (canary: number): TrafficState => ({ ...ALL_STABLE, weights: { stable: 100 - canary, canary } });
const key = (step: number, purpose: string, attempt = 1) => `rel-1_a${attempt}_c0_s${step}_${purpose}`;

function at(state: Release['state'], phase: string, stepIndex: number, patch: Partial<Release> = {}): Release {
  const canary = [5, 5, 5, 25, 25, 50, 50, 100][stepIndex] ?? 0;
  return release(def, { state, phase, stepIndex, weights: weight(canary).weights, traffic: weight(canary), ...patch });
}

function command(verb: ActingVerb, stepIndex: number, extra: { releaseId?: string; reason?: string; refusal?: string; limited?: boolean } = {}): Input {
  return {
    type: 'command',
    verb,
    actor: MIA,
    releaseId: extra.releaseId ?? 'rel-1',
    stepIndex,
    ...(extra.reason ? { reason: extra.reason } : {}),
    ...(extra.refusal ? { refusal: extra.refusal } : {}),
    ...(extra.limited ? { limited: true } : {}),
  };
}

const ROLLBACK: Effect[] = [
  { type: 'set-traffic', traffic: ALL_STABLE },
  { type: 'report', event: 'rolling-back' },
  { type: 'notify', event: 'rolling-back' },
];
const awaiting = at('awaiting-approval', 'approval', 4);

type Refusal = [name: string, release: Release, input: Input, message: string];

const refusals: Refusal[] = [
  ['approval for another step', awaiting, command('approve', 2), 'This approval was for step 3, the release is on step 5; approve again if you mean it.'],
  ['approval for another release', awaiting, command('approve', 4, { releaseId: 'rel-0' }), 'This approve was for release rel-0, this is release rel-1.'],
  ['approval while not awaiting one', at('progressing', 'settle', 4), command('approve', 4), 'Release rel-1 is not waiting for an approval (it is progressing at step 5).'],
  ['approval after the release ended', at('rolled-back', 'done', 4), command('approve', 4), 'Release rel-1 has already ended (rolled-back); nothing to approve.'],
  ['promote while the analysis is failing', at('progressing', 'analysis', 2, { analysis: { passed: 1, failed: 1, inconclusive: 0, consecutiveErrors: 0, checks: 2 } }),
    command('promote', 2), 'Cannot promote release rel-1: the analysis of step 3 is failing (1 failed check). Abort, or wait for it to finish.'],
  ['promote before the canary is deployed', at('deploying', 'canary', -1), command('promote', -1), 'Cannot promote release rel-1: the canary is not deployed yet.'],
  ['promote while promoting', at('promoting', 'stable', 7), command('promote', 7), 'Cannot promote release rel-1: it is already promoting.'],
  ['abort while rolling back', at('rolling-back', 'traffic', 3), command('abort', 3), 'Release rel-1 is already rolling back.'],
  ['abort after success', at('succeeded', 'done', 7), command('abort', 7), 'Release rel-1 has already ended (succeeded); nothing to abort.'],
  ['pause twice', at('paused', 'hold', 1), command('pause', 1), 'Release rel-1 is already paused.'],
  ['pause while promoting', at('promoting', 'traffic', 7), command('pause', 7), 'Cannot pause release rel-1 while it is promoting.'],
  ['resume when not paused', at('progressing', 'settle', 1), command('resume', 1), 'Release rel-1 is not paused (it is progressing).'],
  ['retry a live release', at('progressing', 'settle', 1), command('retry', 1), 'Release rel-1 is still progressing; only a rolled-back, failed or aborted release can be retried.'],
  ['retry a promoted release', at('succeeded', 'done', 7), command('retry', 7), 'Release rel-1 ended succeeded; only a rolled-back, failed or aborted release can be retried.'],
  ['retry a superseded release', at('superseded', 'done', 3), command('retry', 3), 'Release rel-1 ended superseded; only a rolled-back, failed or aborted release can be retried.'],
];

describe('decide: refused commands change nothing but the audit', () => {
  it.each(refusals)('%s', (_name, before, input, message) => {
    const decision = decide(before, input, NOW);
    const verb = (input as Extract<Input, { type: 'command' }>).verb;

    expect(decision).toEqual({
      next: { ...before, updatedAt: NOW, audit: [...before.audit, { at: NOW, actor: MIA, action: 'refused', stepIndex: before.stepIndex >= 0 ? before.stepIndex : null, detail: `${verb}: ${message}` }] },
      effects: [],
      reply: { ok: false, message },
    });
  });
});

describe('decide: an approval counts only for the approval asked for before it was written', () => {
  const asked = T0 + 500_000;
  const waiting = at('awaiting-approval', 'approval', 4, { stepStartedAt: asked });
  const approve = (writtenAt: number): Input => ({ ...command('approve', 4), writtenAt } as Input);

  it.each([
    ['written a minute before the request (a redelivered comment)', asked - 60_000, false],
    ['written a second before the request', asked - 1_000, false],
    ['written in the same second as the request', asked - (asked % 1000), true],
    ['written after the request', asked + 5_000, true],
  ] as const)('%s', (_name, writtenAt, passes) => {
    const decision = decide(waiting, approve(writtenAt), NOW);

    expect(decision.reply?.ok).toBe(passes);
    if (!passes) {
      expect(decision.reply?.message).toMatch(/^This approval was written at .*Z, before canarybot asked for the approval of step 5 at .*Z; approve again if you mean it\.$/);
      expect(decision.effects).toEqual([]);
      expect(decision.next.audit.at(-1)).toMatchObject({ action: 'refused', actor: MIA });
      expect(decision.next.approvals).toEqual(waiting.approvals);
    }
  });
});

describe('decide: a refusal by the intake', () => {
  it('(approvals policy) is audited and answered with its sentence, and nothing moves', () => {
    const sentence = 'Refused by approvals.minAccessLevel: maintainer required, @mia has developer.';
    const decision = decide(awaiting, command('approve', 4, { refusal: sentence }), NOW);

    expect(decision.effects).toEqual([]);
    expect(decision.reply).toEqual({ ok: false, message: sentence });
    expect(decision.next).toMatchObject({ state: 'awaiting-approval', stepIndex: 4, approvals: [] });
    expect(decision.next.audit.at(-1)).toEqual({ at: NOW, actor: MIA, action: 'refused', stepIndex: 4, detail: `approve: ${sentence}` });
  });
});

describe('decide: commands', () => {
  it('approve on the awaited step records who and moves to the next step', () => {
    const { next, effects, reply } = decide(awaiting, command('approve', 4), NOW);

    expect(effects).toEqual([
      { type: 'report', event: 'approved' },
      { type: 'notify', event: 'approved' },
      { type: 'report', event: 'step-started' },
      { type: 'set-traffic', traffic: weight(50) },
    ]);
    expect(next).toMatchObject({ state: 'progressing', phase: 'traffic', stepIndex: 5, weights: { stable: 50, canary: 50 } });
    expect(next.approvals).toEqual([{ releaseId: 'rel-1', stepIndex: 4, actor: MIA, at: NOW }]);
    expect(next.audit.at(-2)).toEqual({ at: NOW, actor: MIA, action: 'approved', stepIndex: 4, detail: 'step 5 by @mia' });
    expect(reply).toEqual({ ok: true, message: `Approved step 5 of reviews (${IMAGE}); moving on.` });
  });

  it('abort while awaiting approval rolls back, 100 % stable first, ending aborted', () => {
    const driver = new Driver(awaiting, NOW);

    const { effects, next, reply } = driver.send(command('abort', 4, { reason: 'p99 doubled in eu-west' }));
    const end = driver.run();

    expect(effects).toEqual(ROLLBACK);
    expect(next).toMatchObject({ state: 'rolling-back', rollbackOutcome: 'aborted', reason: 'aborted by @mia: p99 doubled in eu-west' });
    expect(reply?.ok).toBe(true);
    expect(end.state).toBe('aborted');
    expect(driver.trafficWrites).toEqual([ALL_STABLE]);
    expect(driver.scaleWrites).toEqual([0]);
    expect(driver.events.slice(-2)).toEqual(['report:aborted', 'notify:aborted']);
  });

  it('abort before preflight ends at once without touching traffic', () => {
    const { next, effects } = decide(at('pending', 'preflight', -1), command('abort', -1), NOW);

    expect(next.state).toBe('aborted');
    expect(next.reason).toBe('aborted by @mia');
    expect(effects).toEqual([{ type: 'report', event: 'aborted' }, { type: 'notify', event: 'aborted' }]);
  });

  it('promote skips the remaining steps: stable image, then 100 % stable', () => {
    const before = at('progressing', 'analysis', 2, { analysis: { passed: 1, failed: 0, inconclusive: 2, consecutiveErrors: 0, checks: 3 } });

    const { next, effects, reply } = decide(before, command('promote', 2), NOW);

    expect(effects).toEqual([{ type: 'ensure-stable', image: IMAGE }, { type: 'report', event: 'promoting' }]);
    expect(next).toMatchObject({ state: 'promoting', phase: 'stable', stepIndex: 2, deadlineAt: NOW + 600_000 });
    expect(next.audit.at(-1)).toMatchObject({ actor: MIA, action: 'promoting' });
    expect(reply?.ok).toBe(true);
  });

  it('promote from an approval step needs no approval', () => {
    const driver = new Driver(awaiting, NOW);

    driver.send(command('promote', 4));
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.trafficWrites).toEqual([ALL_STABLE]);
    expect(end.approvals).toEqual([]);
  });

  it('pause mid-analysis ignores results while paused, resume re-arms the check', () => {
    const analysing = at('progressing', 'analysis', 2, { analysis: { passed: 1, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 1 }, wakeAt: NOW + 10_000 });

    const paused = decide(analysing, command('pause', 2), NOW);
    const late = decide(paused.next, { type: 'gate-result', stepIndex: 2, check: check('fail') }, NOW + 1);
    const tick = decide(paused.next, { type: 'tick' }, NOW + 20_000);
    const resumed = decide(paused.next, command('resume', 2), NOW + 30_000);

    expect(paused.effects).toEqual([{ type: 'report', event: 'paused' }, { type: 'notify', event: 'paused' }]);
    expect(paused.next).toMatchObject({ state: 'paused', phase: 'analysis', resumeTo: { state: 'progressing', phase: 'analysis' } });
    expect(late.next).toBe(paused.next);
    expect(tick).toEqual({ next: paused.next, effects: [] });
    expect(resumed.effects).toEqual([
      { type: 'report', event: 'resumed' },
      { type: 'notify', event: 'resumed' },
      { type: 'schedule-tick', at: NOW + 30_000, key: `${key(2, 'wait-analysis')}_resume${NOW + 30_000}` },
    ]);
    expect(resumed.next).toMatchObject({ state: 'progressing', phase: 'analysis', resumeTo: null, analysis: { passed: 1, checks: 1 } });
  });

  it('pause and resume during a wait leave no duplicate tick behind: each check runs once', () => {
    const driver = new Driver(release(definition({ steps: [{ kind: 'setWeight', weight: 5 }, { kind: 'analysis' }] })), T0);
    driver.send({ type: 'start' });
    driver.run(100, (r) => r.phase === 'analysis');

    driver.send(command('pause', 1));
    driver.now += 1000;
    driver.send(command('resume', 1));
    const end = driver.run();

    const checks = driver.transitions.flatMap((t) => t.decision.effects).filter((e) => e.type === 'evaluate-gates');
    expect(end.state).toBe('succeeded');
    expect(checks.map((e) => (e as { check: number }).check)).toEqual([0, 1, 2]);
    expect(driver.pendingTicks()).toBe(0);
  });

  it('resume after a pause during a check in flight evaluates that check again', () => {
    const checking = at('progressing', 'checking', 2, { analysis: { passed: 1, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 1 } });

    const paused = decide(checking, command('pause', 2), NOW);
    const resumed = decide(paused.next, command('resume', 2), NOW + 1000);

    expect(resumed.effects.slice(2)).toEqual([
      { type: 'evaluate-gates', stepIndex: 2, check: 1, analysis: { ...def.analysis, count: 3 }, metrics: def.analysis.metrics },
    ]);
    expect(resumed.next.phase).toBe('checking');
  });

  it('an untimed pause step waits for resume, then moves on', () => {
    const steps = [{ kind: 'setWeight', weight: 10 }, { kind: 'pause' }, { kind: 'setWeight', weight: 20 }] as const;
    const driver = new Driver(release(definition({ steps: [...steps] })), T0);

    driver.send({ type: 'start' });
    const held = driver.run(100, (r) => r.state === 'paused');
    const ticksWhileHeld = driver.pendingTicks();
    const { effects } = driver.send(command('resume', 1));
    const end = driver.run();

    expect(held).toMatchObject({ state: 'paused', phase: 'hold', stepIndex: 1, weights: { stable: 90, canary: 10 } });
    expect(ticksWhileHeld).toBe(0);
    expect(effects).toEqual([
      { type: 'report', event: 'resumed' },
      { type: 'notify', event: 'resumed' },
      { type: 'report', event: 'step-started' },
      { type: 'set-traffic', traffic: weight(20) },
    ]);
    expect(end.state).toBe('succeeded');
  });

  it('retry after a rollback: same record and image, attempt 2, from preflight, old approvals dropped', () => {
    const driver = new Driver(release(def), T0, { gate: (step, n) => (step === 6 && n === 0 ? check('fail') : check('pass')) });
    driver.send({ type: 'start' });
    driver.run(1000, (r) => r.state === 'awaiting-approval');
    driver.send(command('approve', 4));
    const rolledBack = driver.run();

    const { next, effects, reply } = decide(rolledBack, command('retry', 6), driver.now);

    expect(rolledBack.state).toBe('rolled-back');
    expect(rolledBack.approvals).toHaveLength(1);
    expect(effects).toEqual([{ type: 'preflight' }]);
    expect(next).toMatchObject({
      id: 'rel-1', image: IMAGE, state: 'pending', phase: 'preflight', attempt: 2, stepIndex: -1, approvals: [],
      weights: { stable: 100, canary: 0 }, reason: null, rollbackOutcome: null, endedAt: null,
    });
    expect(next.gates).toEqual(rolledBack.gates);
    expect(reply).toEqual({ ok: true, message: `Retrying reviews with ${IMAGE} (attempt 2) from the first step.` });
  });

  it('retry under a concurrency limit: the same retry, but it waits in line for the admission instead of starting', () => {
    const failed = at('failed', 'done', 4, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, approvals: [{ releaseId: 'rel-1', stepIndex: 4, actor: MIA, at: T0 }] });

    const { next, effects, reply } = decide(failed, command('retry', 4, { limited: true }), NOW);
    const tick = decide(next, { type: 'tick' }, NOW + 60_000);
    const admitted = decide(next, { type: 'start' }, NOW + 60_000);

    expect(effects).toEqual([]);
    expect(next).toMatchObject({ id: 'rel-1', state: 'pending', phase: 'queued', attempt: 2, stepIndex: -1, approvals: [], endedAt: null });
    expect(next.audit.at(-1)).toMatchObject({ action: 'retry', actor: MIA });
    expect(reply).toEqual({ ok: true, message: `Retrying reviews with ${IMAGE} (attempt 2) from the first step once a release slot is free (maxConcurrentReleases).` });
    expect(tick).toEqual({ next, effects: [] });
    expect(admitted.effects).toEqual([{ type: 'preflight' }]);
  });

  it('a retried release needs a new approval and uses new tick keys', () => {
    const driver = new Driver(at('failed', 'done', 4, { weights: ALL_STABLE.weights, traffic: ALL_STABLE, approvals: [{ releaseId: 'rel-1', stepIndex: 4, actor: MIA, at: T0 }] }), NOW);

    driver.send(command('retry', 4));
    const waiting = driver.run(1000, (r) => r.state === 'awaiting-approval');

    expect(waiting).toMatchObject({ state: 'awaiting-approval', stepIndex: 4, attempt: 2, approvals: [] });
    const keys = driver.transitions.flatMap((t) => t.decision.effects).filter((e) => e.type === 'schedule-tick').map((e) => (e as { key: string }).key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith('rel-1_a2_'))).toBe(true);
  });
});
