// Release windows and deploy freezes in the pure core, on a fake clock: a new release waits outside
// a window (generic wait, with when it can start); a freeze that begins mid-release holds the weight
// (no increase, no promotion) while the rollback stays allowed; /canary override-freeze lifts it.

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Definition } from '../../src/core/definition.js';
import type { FreezePeriod } from '../../src/core/windows.js';
import { Driver } from './driver.js';
import { DESIGN_STEPS, MIA, check, definition, release } from './fixtures.js';
import { gatedAnalysis } from '../../src/core/decide/gated-analysis.js';

// Tuesday 2026-11-24 19:00 UTC = 20:00 in Berlin, after office hours.
const EVENING = Date.UTC(2026, 10, 24, 19, 0);
const officeHours: Definition = definition({ steps: DESIGN_STEPS.filter((step) => step.kind !== 'approval') }, {
  windows: [{ kind: 'allow', cron: '0 9 * * 1-5', durationMs: 8 * 3_600_000, timezone: 'Europe/Berlin' }],
});
// Frozen every day from 12:01 to 12:40 UTC (the fixtures' releases start at 12:00, at 5 % by 12:01).
const lunchFreeze: FreezePeriod = { freezeStart: '1 12 * * *', freezeEnd: '40 12 * * *', timezone: 'UTC' };
const steps = definition({ steps: DESIGN_STEPS.filter((step) => step.kind !== 'approval') });

describe('windows: a new release', () => {
  it('waits outside the window with the time it can start, then starts at the window', () => {
    const driver = new Driver(release(officeHours), EVENING);

    driver.send({ type: 'start' });
    const waiting = driver.release;
    driver.run(10_000, (r) => r.state !== 'pending');

    expect([waiting.state, waiting.phase]).toEqual(['pending', 'window']);
    expect(waiting.wait).toMatchObject({ kind: 'window', until: Date.UTC(2026, 10, 25, 8, 0) });
    expect(waiting.wait?.sentence).toBe('Waiting to start: it is outside every allow window (allow window "0 9 * * 1-5" for 8h (Europe/Berlin)). It can start at 2026-11-25 09:00 Europe/Berlin (2026-11-25T08:00:00.000Z).');
    expect(driver.transitions.filter((t) => t.decision.effects.some((e) => e.type === 'preflight')).map((t) => t.at)).toEqual([Date.UTC(2026, 10, 25, 8, 0)]);
    expect(driver.release.wait ?? null).toBeNull();
    expect(driver.release.state).not.toBe('pending');
  });

  it('starts at once inside the window', () => {
    const driver = new Driver(release(officeHours), Date.UTC(2026, 10, 25, 9, 0));

    const decision = driver.send({ type: 'start' });

    expect(decision.effects).toEqual([{ type: 'preflight' }]);
  });
});

describe('a freeze that begins mid-release', () => {
  function frozenMidRelease(): Driver {
    const driver = new Driver(release(steps, { freezes: [lunchFreeze] }), Date.UTC(2026, 10, 25, 12, 0));
    driver.send({ type: 'start' });
    driver.run(10_000, (r) => r.phase === 'gated');
    return driver;
  }

  it('holds the weight (no increase) until the freeze ends, then goes on to promotion', () => {
    const driver = frozenMidRelease();
    const gated = driver.release;
    const end = driver.run();

    expect(gated.weights.canary).toBe(5);
    expect(gated.wait).toMatchObject({ kind: 'freeze', until: Date.UTC(2026, 10, 25, 12, 40) });
    expect(gated.wait?.sentence).toContain('Holding at canary 5 % (no increase, no promotion; analysis and alerts go on, and a rollback is always allowed): a GitLab deploy freeze (from "1 12 * * *" to "40 12 * * *", UTC) is in force.');
    expect(driver.trafficWrites.filter((t) => t.weights.canary > 5).length).toBeGreaterThan(0);
    const firstIncrease = driver.transitions.find((t) => t.decision.effects.some((e) => e.type === 'set-traffic' && e.traffic.weights.canary === 25));
    expect(firstIncrease?.at).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 25, 12, 40));
    expect(end.state).toBe('succeeded');
    expect(end.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['frozen', 'window-open']));
  });

  it('a rollback is never held by the freeze', () => {
    const driver = frozenMidRelease();

    driver.send({ type: 'alert', name: 'HighErrorRate', labels: { service: 'reviews' }, startsAt: 'x', fingerprint: 'f' });

    expect(driver.release.state).toBe('rolling-back');
    expect(driver.trafficWrites.at(-1)?.weights).toEqual({ stable: 100, canary: 0 });
    expect(driver.release.wait ?? null).toBeNull();
  });

  it('refuses /canary promote during the freeze; /canary override-freeze lifts it for this release, audited', () => {
    const driver = frozenMidRelease();
    const before = driver.release;

    const promote = decide(before, { type: 'command', verb: 'promote', actor: MIA, releaseId: 'rel-1', stepIndex: before.stepIndex }, driver.now);
    const override = driver.send({ type: 'command', verb: 'override-freeze', actor: MIA, releaseId: 'rel-1', stepIndex: before.stepIndex, reason: 'hotfix for INC-42' });

    expect(promote.reply?.ok).toBe(false);
    expect(promote.reply?.message).toContain('Cannot promote release rel-1 now: a GitLab deploy freeze');
    expect(override.reply).toEqual({ ok: true, message: 'Freezes and deny windows no longer hold reviews (release rel-1); audited: hotfix for INC-42.' });
    expect(driver.release.freezeOverride).toMatchObject({ actor: MIA, reason: 'hotfix for INC-42' });
    expect(driver.release.audit.find((a) => a.action === 'override-freeze')).toMatchObject({ actor: MIA, detail: 'by @mia: hotfix for INC-42' });
    expect(driver.release.weights.canary).toBe(25);
    expect(driver.release.wait ?? null).toBeNull();
  });
});

describe('while a freeze holds the weight, the analysis goes on', () => {
  const FREEZE_START = Date.UTC(2026, 10, 25, 12, 1);
  const FREEZE_END = Date.UTC(2026, 10, 25, 12, 40);
  const checksWhileFrozen = (driver: Driver) =>
    driver.transitions.filter((t) => t.before.phase === 'gated-checking' && t.input.type === 'gate-result');

  it('checks at the held weight every interval until the freeze ends, then promotes', () => {
    const driver = new Driver(release(steps, { freezes: [lunchFreeze] }), Date.UTC(2026, 10, 25, 12, 0));
    driver.send({ type: 'start' });

    const end = driver.run();

    const held = checksWhileFrozen(driver);
    expect(held.length).toBeGreaterThanOrEqual(Math.floor((FREEZE_END - FREEZE_START - 4 * 60_000) / 30_000));
    expect(held.every((t) => t.at < FREEZE_END && t.before.weights.canary === 5)).toBe(true);
    const gaps = held.slice(1).map((t, i) => t.at - held[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(30_000);
    expect(end.state).toBe('succeeded');
    expect(end.audit.filter((a) => a.action === 'check' && a.detail?.includes('while held at canary 5 %')).length).toBe(held.length);
  });

  it('a failing check during the freeze rolls back at once, freeze or not', () => {
    const driver = new Driver(release(steps, { freezes: [lunchFreeze] }), Date.UTC(2026, 10, 25, 12, 0), {
      gate: (_step, _n, at) => (at >= Date.UTC(2026, 10, 25, 12, 10) ? check('fail', 80) : check('pass')),
    });
    driver.send({ type: 'start' });

    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.endedAt).toBeLessThan(FREEZE_END);
    expect(end.reason).toBe('request-success-rate 80 % < 99 % at canary 5 %, held by a freeze');
    expect(driver.trafficWrites.at(-1)?.weights).toEqual({ stable: 100, canary: 0 });
    expect(driver.trafficWrites.some((t) => t.weights.canary > 5)).toBe(false);
  });

  it('onFailure: hold holds it instead, with the figure', () => {
    const holding = definition({ steps: DESIGN_STEPS.filter((step) => step.kind !== 'approval') }, { onFailure: 'hold' });
    const driver = new Driver(release(holding, { freezes: [lunchFreeze] }), Date.UTC(2026, 10, 25, 12, 0), {
      gate: (_step, _n, at) => (at >= Date.UTC(2026, 10, 25, 12, 10) ? check('fail', 80) : check('pass')),
    });
    driver.send({ type: 'start' });

    const held = driver.run(10_000, (r) => r.phase === 'held');

    expect(held.wait?.kind).toBe('hold');
    expect(held.wait?.sentence).toContain('request-success-rate 80 % < 99 % at canary 5 %, held by a freeze');
    expect(held.weights.canary).toBe(5);
  });

  it('measures nothing while the canary takes no traffic; else the last analysis step so far, or spec.analysis', () => {
    const designed = release(steps);
    const metrics = (r: typeof designed) => gatedAnalysis(r)?.metrics.map((m) => m.name) ?? null;

    expect(gatedAnalysis({ ...designed, stepIndex: -1 })).toBeNull();
    expect(metrics({ ...designed, stepIndex: 0, weights: { stable: 95, canary: 5 }, traffic: { ...designed.traffic, weights: { stable: 95, canary: 5 } } }))
      .toEqual(designed.definition.analysis.metrics.map((m) => m.name));
    expect(gatedAnalysis({ ...designed, stepIndex: 0, definition: { ...designed.definition, alerts: [], analysis: { ...designed.definition.analysis, metrics: [] } }, weights: { stable: 95, canary: 5 } })).toBeNull();
  });
});

describe('freeze periods re-read mid-release (the engine sends them when GitLab changed)', () => {
  const frozenNow: FreezePeriod = { freezeStart: '0 12 * * *', freezeEnd: '0 13 * * *', timezone: 'UTC' };

  it('a freeze added after the start holds the next increase; lifting it lets the release go on at once', () => {
    const driver = new Driver(release(steps), Date.UTC(2026, 10, 25, 12, 0));
    driver.send({ type: 'start' });
    driver.run(10_000, (r) => r.weights.canary === 5 && r.phase === 'pause');

    driver.send({ type: 'freezes', freezes: [frozenNow] });
    const held = driver.run(10_000, (r) => r.phase === 'gated');
    const lifted = driver.send({ type: 'freezes', freezes: [] });

    expect(held.weights.canary).toBe(5);
    expect(held.wait).toMatchObject({ kind: 'freeze', until: Date.UTC(2026, 10, 25, 13, 0) });
    expect(held.audit.find((a) => a.action === 'freezes-changed')?.detail).toBe('GitLab deploy freeze periods now: "0 12 * * *" to "0 13 * * *" (UTC)');
    expect(lifted.next.wait ?? null).toBeNull();
    expect(lifted.effects).toContainEqual({ type: 'set-traffic', traffic: expect.objectContaining({ weights: { stable: 75, canary: 25 } }) });
    expect(driver.run().state).toBe('succeeded');
  });

  it('the same periods again change nothing; an ended release is left alone', () => {
    const same = release(steps, { freezes: [frozenNow] });
    const ended = { ...release(steps), state: 'succeeded' as const };

    expect(decide(same, { type: 'freezes', freezes: [frozenNow] }, Date.UTC(2026, 10, 25, 12, 0)).next).toBe(same);
    expect(decide(ended, { type: 'freezes', freezes: [frozenNow] }, Date.UTC(2026, 10, 25, 12, 0)).next).toBe(ended);
  });
});
