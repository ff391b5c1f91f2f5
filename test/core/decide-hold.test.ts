// Hold instead of rollback against the pure core: a failed gate (onFailure: hold) or an alert whose
// sources say onFire: hold keeps the traffic where it is; resume goes on, abort rolls back, and a
// forgotten hold rolls back at holdTimeout.

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import { Driver } from './driver.js';
import { DESIGN_STEPS, INTERVAL, MIA, T0, check, definition, release } from './fixtures.js';

const HOUR = 3_600_000;
const held = (patch: Partial<Definition> = {}) => definition({ steps: DESIGN_STEPS }, { onFailure: 'hold', ...patch });

/** Drives the DESIGN steps until the first analysis (step 3) fails its first check. */
function failAtFirstAnalysis(def: Definition): Driver {
  const driver = new Driver(release(def), T0, { gate: (stepIndex) => (stepIndex === 2 ? check('fail') : check('pass')) });
  driver.send({ type: 'start' });
  driver.run(10_000, (r) => r.state === 'paused' || r.state === 'rolling-back' || r.state === 'rolled-back');
  return driver;
}

function command(driver: Driver, verb: 'resume' | 'abort' | 'promote' | 'pause') {
  return driver.send({ type: 'command', verb, actor: MIA, releaseId: 'rel-1', stepIndex: driver.release.stepIndex });
}

describe('onFailure: hold', () => {
  it('a failed gate keeps the canary at its weight, with the hold wait, the reason and a timeout tick', () => {
    const driver = failAtFirstAnalysis(held());
    const r = driver.release;

    expect([r.state, r.phase, r.stepIndex]).toEqual(['paused', 'held', 2]);
    expect(r.weights).toEqual({ stable: 95, canary: 5 });
    expect(driver.trafficWrites.map((t) => t.weights.canary)).toEqual([5]);
    expect(r.reason).toBe('request-success-rate 70.1 % < 99 % at step 3 (analysis, canary at 5 %)');
    expect(r.wait).toMatchObject({ kind: 'hold', since: driver.now, until: driver.now + HOUR });
    expect(r.wait?.sentence).toContain('HELD at step 3 with the canary at 5 % instead of rolling back: request-success-rate 70.1');
    expect(driver.events).toContain('notify:held');
    expect(r.audit.at(-1)).toMatchObject({ action: 'held' });
  });

  it('the default (rollback) and keepPromoted still roll back at once', () => {
    for (const onFailure of [undefined, 'rollback', 'keepPromoted'] as const) {
      const driver = failAtFirstAnalysis(definition({ steps: DESIGN_STEPS }, onFailure ? { onFailure } : {}));

      expect(driver.release.state).toBe('rolling-back');
      expect(driver.release.weights.canary).toBe(0);
    }
  });

  it('/canary resume goes on past the failed step and the release is promoted', () => {
    const driver = failAtFirstAnalysis(held());

    const reply = command(driver, 'resume');
    const approved = driver.run(10_000, (x) => x.state === 'awaiting-approval');
    driver.send({ type: 'command', verb: 'approve', actor: MIA, releaseId: 'rel-1', stepIndex: approved.stepIndex });
    const end = driver.run();

    expect(reply.reply).toEqual({ ok: true, message: 'Resumed reviews past the held step 3; the next step follows.' });
    expect(end.state).toBe('succeeded');
    expect(end.wait ?? null).toBeNull();
    expect(driver.trafficWrites.map((t) => t.weights.canary)).toEqual([5, 25, 50, 100, 0]);
    expect(end.audit.find((a) => a.action === 'resumed')?.detail).toBe('at step 3 by @mia after a hold (request-success-rate 70.1 % < 99 % at step 3 (analysis, canary at 5 %))');
  });

  it('/canary abort rolls back, and the hold wait goes', () => {
    const driver = failAtFirstAnalysis(held());

    command(driver, 'abort');
    const end = driver.run();

    expect(end.state).toBe('aborted');
    expect(end.wait ?? null).toBeNull();
    expect(driver.trafficWrites.at(-1)?.weights).toEqual({ stable: 100, canary: 0 });
  });

  it('a forgotten hold rolls back at holdTimeout, not before', () => {
    const driver = failAtFirstAnalysis(held({ holdTimeoutMs: 30 * 60_000 }));
    const heldAt = driver.now;

    const early = decide(driver.release, { type: 'tick', key: driver.release.wakeKey ?? '' }, heldAt + 29 * 60_000);
    const end = driver.run();

    expect(early.effects).toEqual([]);
    expect(early.next.state).toBe('paused');
    expect(end.state).toBe('rolled-back');
    expect(end.reason).toBe('held 30m with no /canary abort or /canary resume, rolled back: request-success-rate 70.1 % < 99 % at step 3 (analysis, canary at 5 %)');
    expect(driver.transitions.find((t) => t.decision.next.state === 'rolling-back')?.at).toBe(heldAt + 30 * 60_000);
  });

  it('refuses promote while held (audited, nothing else changes)', () => {
    const driver = failAtFirstAnalysis(held());
    const before = driver.release;

    const promote = decide(before, { type: 'command', verb: 'promote', actor: MIA, releaseId: 'rel-1', stepIndex: 2 }, driver.now);

    expect(promote.effects).toEqual([]);
    expect([promote.next.state, promote.next.phase, promote.next.audit.at(-1)?.action]).toEqual(['paused', 'held', 'refused']);
    expect(promote.reply?.ok).toBe(false);
    expect(promote.reply?.message).toContain('it is held after request-success-rate 70.1');
  });
});

describe('alerts[].onFire', () => {
  const alert = (labels: Record<string, string>) => ({ type: 'alert' as const, name: 'HighErrorRate', labels: { alertname: 'HighErrorRate', ...labels }, startsAt: '2026-11-25T12:00:00Z', fingerprint: 'f1' });
  const progressing = (def: Definition): Release => release(def, { state: 'progressing', phase: 'analysis', stepIndex: 2, weights: { stable: 95, canary: 5 }, traffic: { ...release(def).traffic, weights: { stable: 95, canary: 5 } } });
  const sources = (onFire: 'rollback' | 'hold', other?: 'rollback' | 'hold'): Definition['alerts'] => [
    { kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }], onFire },
    ...(other ? [{ kind: 'alertmanager' as const, matchers: [{ name: 'severity', op: '=' as const, value: 'page' }], onFire: other }] : []),
  ];

  it.each([
    ['hold: held, no traffic write', sources('hold'), { service: 'reviews' }, 'paused'],
    ['rollback (default) rolls back', sources('rollback'), { service: 'reviews' }, 'rolling-back'],
    ['two matching sources, one rolls back: rollback wins', sources('hold', 'rollback'), { service: 'reviews', severity: 'page' }, 'rolling-back'],
    ['only the holding source matches', sources('hold', 'rollback'), { service: 'reviews', severity: 'warning' }, 'paused'],
  ])('%s', (_name, alerts, labels, state) => {
    const def = definition({ steps: DESIGN_STEPS }, { alerts });

    const decision = decide(progressing(def), alert(labels), T0 + INTERVAL);

    expect(decision.next.state).toBe(state);
    expect(decision.effects.some((e) => e.type === 'set-traffic')).toBe(state === 'rolling-back');
  });

  it('a rollback alert still rolls back a held release', () => {
    const def = definition({ steps: DESIGN_STEPS }, { onFailure: 'hold', alerts: sources('rollback') });
    const driver = failAtFirstAnalysis(def);

    const decision = decide(driver.release, alert({ service: 'reviews' }), driver.now + 1000);

    expect(decision.next.state).toBe('rolling-back');
    expect(decision.next.wait ?? null).toBeNull();
  });
});
