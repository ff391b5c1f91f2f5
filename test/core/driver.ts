// A tiny pure driver for the release core: executes effects against an in-memory world, feeds the
// results back, and runs scheduled ticks on a fake clock. Used by scenario and property tests.

import { decide } from '../../src/core/decide.js';
import type { Decision } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import type { CheckResult } from '../../src/core/gate.js';
import type { EffectOutcome, GitOpsReport, Input } from '../../src/core/input.js';
import { planSteps } from '../../src/core/plan.js';
import type { Release } from '../../src/core/release.js';
import { isLive } from '../../src/core/release.js';
import type { TrafficState } from '../../src/core/traffic.js';

export interface World {
  /** Result of evaluate-gates / call-webhook for a step's n-th check. */
  gate?: (stepIndex: number, check: number, at: number) => CheckResult;
  /** Outcome of a rollout effect on its n-th call (default ok). */
  rollout?: (effect: 'preflight' | 'ensure-canary' | 'ensure-stable', call: number) => EffectOutcome;
  traffic?: (write: number) => EffectOutcome;
  /** Outcome of a GitOps effect on its n-th call (default: ok, with a commit for commit and revert). */
  gitops?: (effect: 'gitops-commit' | 'gitops-revert' | 'gitops-sync', call: number) => EffectOutcome & { gitops?: GitOpsReport };
}

export interface Transition {
  at: number;
  input: Input;
  before: Release;
  decision: Decision;
}

export class Driver {
  release: Release;
  now: number;
  readonly trafficWrites: TrafficState[] = [];
  readonly scaleWrites: number[] = [];
  readonly events: string[] = [];
  /** Every effect that reached the world, in order (`ensure-stable:<image>`, `gitops-commit`, …). */
  readonly log: string[] = [];
  readonly transitions: Transition[] = [];
  private readonly timers = new Map<string, number>();
  private readonly queue: Effect[] = [];
  private readonly calls = new Map<string, number>();

  constructor(release: Release, now: number, private readonly world: World = {}) {
    this.release = release;
    this.now = now;
  }

  /** Feeds one input, then executes every effect it leads to (not the scheduled ticks). */
  send(input: Input): Decision {
    const decision = this.apply(input);
    this.drain();
    return decision;
  }

  /** Runs until the release ends or `maxSteps` inputs, advancing the clock to each due tick. */
  run(maxSteps = 10_000, stopWhen: (r: Release) => boolean = (r) => !isLive(r.state)): Release {
    for (let i = 0; i < maxSteps && !stopWhen(this.release); i += 1) {
      this.drain();
      if (stopWhen(this.release)) break;
      const next = [...this.timers.entries()].sort((a, b) => a[1] - b[1])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1]);
      this.apply({ type: 'tick', key: next[0] });
    }
    return this.release;
  }

  pendingTicks(): number {
    return this.timers.size;
  }

  private apply(input: Input): Decision {
    const before = this.release;
    const decision = decide(before, input, this.now);
    this.transitions.push({ at: this.now, input, before, decision });
    this.release = decision.next;
    this.queue.push(...decision.effects);
    return decision;
  }

  private count(name: string): number {
    const n = this.calls.get(name) ?? 0;
    this.calls.set(name, n + 1);
    return n;
  }

  private drain(): void {
    for (let effect = this.queue.shift(); effect; effect = this.queue.shift()) {
      const input = this.execute(effect);
      if (input) this.apply(input);
    }
  }

  private execute(effect: Effect): Input | null {
    if (effect.type !== 'schedule-tick' && effect.type !== 'report' && effect.type !== 'notify') {
      this.log.push(effect.type === 'ensure-stable' ? `ensure-stable:${effect.image}` : effect.type === 'set-traffic' ? `set-traffic:${effect.traffic.weights.canary}` : effect.type);
    }
    switch (effect.type) {
      case 'gitops-commit':
      case 'gitops-revert':
      case 'gitops-sync': {
        const n = this.count(effect.type);
        const fallback = effect.type === 'gitops-sync' ? {} : { gitops: { commit: { sha: `${effect.type === 'gitops-commit' ? 'c0' : 'r0'}${n}`.padEnd(40, 'a'), url: 'http://gitlab.test/c' } } };
        const outcome = this.world.gitops?.(effect.type, n) ?? { outcome: 'ok' as const, ...fallback };
        return { type: 'effect-result', effect: effect.type, ...outcome } as Input;
      }
      case 'preflight':
      case 'ensure-canary':
      case 'ensure-stable': {
        const outcome = this.world.rollout?.(effect.type, this.count(effect.type)) ?? { outcome: 'ok' };
        return { type: 'effect-result', effect: effect.type, ...outcome };
      }
      case 'set-traffic': {
        const outcome = this.world.traffic?.(this.count('set-traffic')) ?? { outcome: 'ok' };
        if (outcome.outcome === 'ok') this.trafficWrites.push(effect.traffic);
        return { type: 'effect-result', effect: 'set-traffic', ...outcome };
      }
      case 'scale-canary':
        this.scaleWrites.push(effect.replicas);
        return { type: 'effect-result', effect: 'scale-canary', outcome: 'ok' };
      case 'evaluate-gates': {
        const result = this.world.gate?.(effect.stepIndex, effect.check, this.now) ?? passing(this.now);
        return { type: 'gate-result', stepIndex: effect.stepIndex, check: result };
      }
      case 'call-webhook': {
        const result = this.world.gate?.(effect.stepIndex, this.count(`webhook-${effect.stepIndex}`), this.now) ?? passing(this.now);
        return { type: 'gate-result', stepIndex: effect.stepIndex, check: result };
      }
      case 'schedule-tick':
        if (!this.timers.has(effect.key)) this.timers.set(effect.key, effect.at);
        return null;
      case 'report':
      case 'notify':
        this.events.push(`${effect.type}:${effect.event}`);
        return null;
    }
  }
}

export function passing(at: number): CheckResult {
  return { verdict: 'pass', at, measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 99.9, threshold: '>= 99' }] };
}

/** The invariants of DESIGN §5 that hold for every record. */
export function invariantViolations(release: Release): string[] {
  const problems: string[] = [];
  const { stable, canary } = release.weights;
  if (stable + canary !== 100) problems.push(`weights sum to ${stable + canary}`);
  if (stable < 0 || canary < 0) problems.push(`negative weight ${stable}/${canary}`);
  if (!Number.isInteger(stable) || !Number.isInteger(canary)) problems.push('non-integer weights');
  if (JSON.stringify(release.weights) !== JSON.stringify(release.traffic.weights)) problems.push('weights and traffic disagree');
  const planned = planSteps(release.definition)[release.stepIndex];
  // While promoting, the canary keeps the last step's traffic until the stable Deployment is ready.
  const allowed = ['progressing', 'paused', 'awaiting-approval', 'promoting'].includes(release.state)
    ? planned?.traffic.weights.canary ?? 0
    : 0;
  if (canary > allowed) problems.push(`canary ${canary} above the step's planned ${allowed} (${release.state}, step ${release.stepIndex})`);
  return problems;
}
