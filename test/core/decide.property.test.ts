// Property tests: random input sequences keep the DESIGN §5 invariants.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActingVerb } from '../../src/core/command.js';
import { decide } from '../../src/core/decide.js';
import type { Step, Strategy } from '../../src/core/definition.js';
import type { Verdict } from '../../src/core/gate.js';
import type { EffectOutcome, Input } from '../../src/core/input.js';
import { planSteps } from '../../src/core/plan.js';
import type { Release } from '../../src/core/release.js';
import { isLive } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { Driver, invariantViolations } from './driver.js';
import { MIA, T0, check, definition, release } from './fixtures.js';

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((weight): Step => ({ kind: 'setWeight', weight })),
  fc.integer({ min: 0, max: 100 }).map((percent): Step => ({ kind: 'setMirror', percent })),
  fc.option(fc.integer({ min: 0, max: 90_000 }), { nil: undefined }).map((durationMs): Step => (durationMs === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs })),
  fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }).map((count): Step => (count === undefined ? { kind: 'analysis' } : { kind: 'analysis', count })),
  fc.constant<Step>({ kind: 'approval' }),
  fc.constant<Step>({ kind: 'webhook', name: 'smoke', url: 'https://smoke.example', timeoutMs: 1000 }),
);

const strategyArb: fc.Arbitrary<Strategy> = fc.tuple(fc.constantFrom('canary', 'abTest', 'mirror', 'blueGreen'), fc.array(stepArb, { minLength: 1, maxLength: 6 }))
  .map(([kind, steps]): Strategy => {
    if (kind === 'abTest') return { kind, match: [{ headers: { 'x-beta': { exact: '1' } } }], steps };
    if (kind === 'blueGreen') return { kind, preview: { header: 'x-preview', value: '1' }, steps };
    return { kind: kind as 'canary' | 'mirror', steps };
  });

const outcomeArb: fc.Arbitrary<EffectOutcome> = fc.oneof(
  fc.constant<EffectOutcome>({ outcome: 'ok' }),
  fc.constant<EffectOutcome>({ outcome: 'ok' }),
  fc.constant<EffectOutcome>({ outcome: 'progressing', message: 'rolling out' }),
  fc.constant<EffectOutcome>({ outcome: 'transient', code: 'K8S_UNAVAILABLE', message: 'down' }),
  fc.constant<EffectOutcome>({ outcome: 'terminal', code: 'K8S_INVALID', message: 'refused' }),
);
const OLD_STABLE = 'registry.example.com/bookinfo/reviews:0ld5tab1';
const verdictArb = fc.constantFrom<Verdict>('pass', 'pass', 'fail', 'inconclusive', 'error');

/** An input, some of them relative to the release at the time they are fed (`current` step). */
type Gen = { dt: number; make: (r: Release) => Input };
const genArb: fc.Arbitrary<Gen> = fc.tuple(
  fc.integer({ min: 0, max: 120_000 }),
  fc.oneof(
    fc.constant((): Input => ({ type: 'start' })),
    fc.constant((): Input => ({ type: 'tick' })),
    fc.constant((): Input => ({ type: 'tick' })),
    fc.tuple(fc.constantFrom('preflight', 'ensure-canary', 'ensure-stable', 'set-traffic', 'scale-canary') as fc.Arbitrary<'preflight'>, outcomeArb, fc.boolean())
      .map(([effect, outcome, knowsStable]) => (): Input => ({
        type: 'effect-result', effect, ...outcome, ...(effect === 'preflight' && knowsStable ? { stableImage: OLD_STABLE } : {}),
      })),
    fc.tuple(fc.boolean(), verdictArb).map(([current, verdict]) => (r: Release): Input => ({
      type: 'gate-result', stepIndex: current ? r.stepIndex : r.stepIndex + 1, check: check(verdict),
    })),
    fc.tuple(fc.constantFrom<ActingVerb>('approve', 'promote', 'abort', 'pause', 'resume', 'retry'), fc.boolean(), fc.boolean())
      .map(([verb, sameStep, sameRelease]) => (r: Release): Input => ({
        type: 'command', verb, actor: MIA, releaseId: sameRelease ? r.id : 'rel-0', stepIndex: sameStep ? r.stepIndex : r.stepIndex - 1,
      })),
    fc.constant((): Input => ({ type: 'alert', name: 'HighErrorRate', labels: { service: 'reviews' }, startsAt: 's', fingerprint: 'f' })),
    fc.constant((): Input => ({ type: 'superseded', byReleaseId: 'rel-2', image: 'img:2' })),
  ),
).map(([dt, make]) => ({ dt, make }));

describe('decide: properties', () => {
  it('random input sequences keep weights valid, within the step, and ended releases ended', () => {
    fc.assert(
      fc.property(strategyArb, fc.array(genArb, { minLength: 1, maxLength: 80 }), (strategy, gens) => {
        let current = release(definition(strategy));
        let now = T0;
        for (const gen of gens) {
          now += gen.dt;
          const input = gen.make(current);
          const frozen = JSON.stringify(current);

          const { next, effects } = decide(current, input, now);

          expect(JSON.stringify(current)).toBe(frozen);
          expect(invariantViolations(next)).toEqual([]);
          if (!isLive(current.state)) {
            const retried = input.type === 'command' && input.verb === 'retry' && next.attempt !== current.attempt;
            if (retried) expect(['rolled-back', 'failed', 'aborted']).toContain(current.state);
            // A refused command is audited on the ended release; nothing else changes.
            else if (input.type === 'command') expect({ ...next, audit: current.audit, updatedAt: current.updatedAt }).toEqual(current);
            else expect(next).toBe(current);
          }
          if (next.state === 'rolling-back' && current.state !== 'rolling-back') {
            expect(effects[0]).toEqual({ type: 'set-traffic', traffic: ALL_STABLE });
          }
          // A rollback only ever puts the previous stable image back, never the release's own.
          if (current.state === 'rolling-back') {
            for (const effect of effects) if (effect.type === 'ensure-stable') expect(effect.image).toBe(OLD_STABLE);
          }
          const planned = planSteps(next.definition)[next.stepIndex]?.traffic.weights.canary ?? 0;
          for (const effect of effects) {
            if (effect.type === 'set-traffic') expect(effect.traffic.weights.canary).toBeLessThanOrEqual(next.state === 'progressing' ? planned : 0);
          }
          current = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with a cooperating world and a release manager, every release ends, promoted or rolled back', () => {
    fc.assert(
      fc.property(strategyArb, fc.array(verdictArb, { minLength: 40, maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (strategy, verdicts, alertAfter) => {
        const driver = new Driver(release(definition(strategy)), T0, {
          gate: (_step, n) => check(verdicts[n % verdicts.length] ?? 'pass'),
        });
        driver.send({ type: 'start' });
        let inputs = 0;
        for (let round = 0; round < 50 && isLive(driver.release.state); round += 1) {
          driver.run(200, (r) => !isLive(r.state) || r.state === 'awaiting-approval' || r.state === 'paused');
          const r = driver.release;
          inputs += 1;
          if (inputs === alertAfter && isLive(r.state)) driver.send({ type: 'alert', name: 'A', labels: {}, startsAt: 's', fingerprint: 'f' });
          else if (r.state === 'awaiting-approval') driver.send({ type: 'command', verb: 'approve', actor: MIA, releaseId: r.id, stepIndex: r.stepIndex });
          else if (r.state === 'paused') driver.send({ type: 'command', verb: 'resume', actor: MIA, releaseId: r.id, stepIndex: r.stepIndex });
        }
        driver.run();

        expect(['succeeded', 'rolled-back']).toContain(driver.release.state);
        expect(driver.trafficWrites.at(-1)).toEqual(ALL_STABLE);
        expect(driver.scaleWrites).toEqual([0]);
        for (const t of driver.transitions) expect(invariantViolations(t.decision.next)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
