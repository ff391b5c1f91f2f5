// Tick scenarios with a fake clock: whole releases driven to their end by feeding effect results back.

import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/core/definition.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { Driver, invariantViolations } from './driver.js';
import { INTERVAL, MIA, SETTLE, T0, check, definition, release } from './fixtures.js';

const approve = (stepIndex: number) => ({ type: 'command', verb: 'approve', actor: MIA, releaseId: 'rel-1', stepIndex }) as const;

function assertInvariants(driver: Driver): void {
  for (const t of driver.transitions) expect(invariantViolations(t.decision.next), JSON.stringify(t.input)).toEqual([]);
}

describe('a canary release on a fake clock', () => {
  it('walks the DESIGN example to promotion, waiting for the approval', () => {
    const driver = new Driver(release(), T0);

    driver.send({ type: 'start' });
    const atApproval = driver.run(1000, (r) => r.state === 'awaiting-approval');
    expect(atApproval.stepIndex).toBe(4);
    expect(atApproval.weights).toEqual({ stable: 75, canary: 25 });
    const approvedAt = driver.now;
    driver.send(approve(4));
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.trafficWrites.map((t) => t.weights.canary)).toEqual([5, 25, 50, 100, 0]);
    expect(driver.scaleWrites).toEqual([0]);
    expect(end.weights).toEqual({ stable: 100, canary: 0 });
    expect(end.gates.filter((g) => g.stepIndex === 2)).toHaveLength(3);
    expect(end.gates.filter((g) => g.stepIndex === 6)).toHaveLength(10);
    expect(driver.events).toContain('report:promoted');
    expect(driver.events).toContain('notify:approval-needed');
    expect(end.approvals).toEqual([{ releaseId: 'rel-1', stepIndex: 4, actor: MIA, at: approvedAt }]);
    assertInvariants(driver);
  });

  it('takes settle, pause and every analysis interval on the clock', () => {
    const steps: Step[] = [{ kind: 'setWeight', weight: 10 }, { kind: 'pause', durationMs: 60_000 }, { kind: 'analysis' }];
    const driver = new Driver(release(definition({ steps })), T0);

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    // settle after 10 %, the pause, 3 checks an interval apart, then promotion's settle.
    expect(end.endedAt! - T0).toBe(SETTLE + 60_000 + 3 * INTERVAL + SETTLE);
  });

  it('rolls back on a failing check, 100 % stable before the scale-down, and names the figure', () => {
    const driver = new Driver(release(), T0, { gate: (step, n) => (step === 2 && n === 1 ? check('fail', 70.1) : check('pass')) });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.reason).toBe('request-success-rate 70.1 % < 99 % at step 3 (analysis, canary at 5 %)');
    expect(driver.trafficWrites.map((t) => t.weights.canary)).toEqual([5, 0]);
    expect(driver.trafficWrites.at(-1)).toEqual(ALL_STABLE);
    expect(driver.scaleWrites).toEqual([0]);
    expect(driver.events.slice(-2)).toEqual(['report:rolled-back', 'notify:rolled-back']);
    assertInvariants(driver);
  });

  it('never promotes on inconclusive checks: rolls back once inconclusiveLimit is exceeded', () => {
    const driver = new Driver(release(definition({ steps: [{ kind: 'setWeight', weight: 5 }, { kind: 'analysis' }] })), T0, {
      gate: () => check('inconclusive', null),
    });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.gates).toHaveLength(4);
    expect(end.reason).toMatch(/^4 inconclusive checks \(inconclusiveLimit 3\) at step 2 \(analysis, canary at 5 %\)/);
    expect(driver.events).not.toContain('report:promoting');
  });

  it('fails only after consecutiveErrorLimit errors, and an error between passes resets nothing but the streak', () => {
    const verdicts = ['error', 'pass', 'error', 'error', 'pass', 'pass'] as const;
    const driver = new Driver(release(definition({ steps: [{ kind: 'setWeight', weight: 5 }, { kind: 'analysis' }] })), T0, {
      gate: (_step, n) => check(verdicts[n] ?? 'error', verdicts[n] === 'pass' ? 99.9 : null),
    });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(end.gates.map((g) => g.check.verdict)).toEqual([...verdicts]);
  });

  it('rolls back when the canary is not ready within the deadline', () => {
    const driver = new Driver(release(), T0, {
      rollout: (effect) => (effect === 'ensure-canary' ? { outcome: 'progressing', message: '0 of 2 replicas ready' } : { outcome: 'ok' }),
    });

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('rolled-back');
    expect(end.reason).toBe('canary not ready within 10m: 0 of 2 replicas ready');
    expect(driver.trafficWrites).toEqual([ALL_STABLE]);
    expect(end.endedAt! - T0).toBeGreaterThanOrEqual(600_000);
  });
});

describe('other strategies on a fake clock', () => {
  it('abTest: the match route from the first step, weights stay 100/0, promotion clears it', () => {
    const match = [{ headers: { 'x-canary': { exact: 'always' } } }];
    const driver = new Driver(release(definition({ kind: 'abTest', match, steps: [{ kind: 'analysis' }, { kind: 'pause', durationMs: 60_000 }] } as never)), T0);

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.trafficWrites).toEqual([{ ...ALL_STABLE, abMatch: match }, ALL_STABLE]);
    assertInvariants(driver);
  });

  it('mirror: mirror percent with weights unchanged; a later setWeight clears the mirror', () => {
    const steps: Step[] = [{ kind: 'setMirror', percent: 20 }, { kind: 'analysis' }, { kind: 'setMirror', percent: 100 }, { kind: 'setWeight', weight: 10 }];
    const driver = new Driver(release(definition({ kind: 'mirror', steps })), T0);

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.trafficWrites.map((t) => [t.weights.canary, t.mirrorPercent])).toEqual([[0, 20], [0, 100], [10, 0], [0, 0]]);
    assertInvariants(driver);
  });

  it('blueGreen: preview route, analysis, approval, then the switch happens at promotion', () => {
    const preview = { header: 'x-preview', value: 'true' };
    const steps: Step[] = [{ kind: 'analysis' }, { kind: 'approval' }];
    const driver = new Driver(release(definition({ kind: 'blueGreen', preview, steps } as never)), T0);

    driver.send({ type: 'start' });
    driver.run(1000, (r) => r.state === 'awaiting-approval');
    driver.send(approve(1));
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(driver.trafficWrites).toEqual([{ ...ALL_STABLE, preview }, ALL_STABLE]);
    expect(driver.transitions.map((t) => t.decision.effects).flat().filter((e) => e.type === 'ensure-stable')).toEqual([
      { type: 'ensure-stable', image: end.image },
    ]);
    assertInvariants(driver);
  });

  it('multi-cluster: promotes cluster by cluster within one record', () => {
    const def = definition({ steps: [{ kind: 'setWeight', weight: 50 }] });
    def.target.clusters = ['eu-1', 'us-1'];
    const driver = new Driver(release(def), T0);

    driver.send({ type: 'start' });
    const end = driver.run();

    expect(end.state).toBe('succeeded');
    expect(end.cluster).toBe('us-1');
    expect(end.clusterIndex).toBe(1);
    expect(driver.trafficWrites.map((t) => t.weights.canary)).toEqual([50, 0, 50, 0]);
    expect(driver.events.filter((e) => e === 'report:promoted')).toHaveLength(1);
    expect(end.audit.filter((a) => a.action === 'preflight-ok').map((a) => a.detail)).toEqual(['eu-1', 'us-1']);
  });
});
