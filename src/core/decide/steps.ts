// Walking the planned steps: enter a step (write its traffic when it differs, then settle), run its
// action (pause, analysis, approval, webhook), move to the next one, promote after the last.

import type { PlannedStep } from '../plan.js';
import { planSteps, stepAnalysis } from '../plan.js';
import type { Release } from '../release.js';
import { describeStep } from './describe.js';
import type { Draft } from './draft.js';
import { announce, audit, emit, sameTraffic, timelinePoint, wakeAt, writeTraffic } from './draft.js';
import { startPromotion } from './promote.js';
import { GATED_CHECKING_PHASE, GATED_PHASE, nextGatedCheckAt } from './gated-analysis.js';
import { windowClosed } from './window-gate.js';

export function plannedStep(release: Release, index = release.stepIndex): PlannedStep | undefined {
  return planSteps(release.definition)[index];
}

export const NO_ANALYSIS = { passed: 0, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 0 };

/** Moves past step `from` (-1: before the first) to the next step, or to promotion after the last. */
export function advance(d: Draft, from: number): void {
  const plan = planSteps(d.next.definition);
  const planned = plan[from + 1];
  // A closed window or a freeze holds the weight: no increase, no promotion (re-checked by a tick).
  const increases = !planned || planned.traffic.weights.canary > d.next.weights.canary;
  if (increases) {
    const r = d.next;
    const wasGated = r.phase === GATED_PHASE || r.phase === GATED_CHECKING_PHASE;
    r.stepIndex = from;
    if (windowClosed(d, 'increase', nextGatedCheckAt(r, d.now))) {
      r.state = 'progressing';
      r.phase = GATED_PHASE;
      if (!wasGated) r.analysis = null;
      return;
    }
  }
  if (!planned) {
    startPromotion(d, 'all steps passed');
    return;
  }
  enterStep(d, planned);
}

function enterStep(d: Draft, planned: PlannedStep): void {
  const r = d.next;
  r.state = 'progressing';
  r.stepIndex = planned.index;
  r.stepStartedAt = d.now;
  r.analysis = null;
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.resumeTo = null;
  audit(d, 'step-started', describeStep(planned.step));
  announce(d, 'step-started', false);
  if (!sameTraffic(r.traffic, planned.traffic)) {
    r.phase = 'traffic';
    writeTraffic(d, planned.traffic);
    return;
  }
  beginAction(d, planned);
}

/** The step's traffic write came back ok: wait for settle before anything reads metrics. */
export function stepTrafficDone(d: Draft): void {
  const r = d.next;
  r.trafficChangedAt = d.now;
  r.phase = 'settle';
  audit(d, 'traffic', `stable ${r.weights.stable} / canary ${r.weights.canary}, mirror ${r.traffic.mirrorPercent}`);
  timelinePoint(d, null);
  wakeAt(d, d.now + Math.max(0, r.definition.target.settleMs), 'settle');
}

/** The step's traffic is in force and settled: run what the step is for. */
export function beginAction(d: Draft, planned: PlannedStep): void {
  const r = d.next;
  const { step } = planned;
  switch (step.kind) {
    case 'setWeight':
    case 'setMirror':
      advance(d, planned.index);
      return;
    case 'pause':
      if (step.durationMs === undefined) {
        r.state = 'paused';
        r.phase = 'hold';
        r.resumeTo = null;
        r.wakeAt = null;
        r.wakeKey = null;
        announce(d, 'paused');
        return;
      }
      r.phase = 'pause';
      wakeAt(d, d.now + Math.max(0, step.durationMs), 'pause');
      return;
    case 'analysis': {
      r.phase = 'analysis';
      r.analysis = { ...NO_ANALYSIS };
      const { analysis } = stepAnalysis(r.definition, step);
      const settled = (r.trafficChangedAt ?? d.now) + Math.max(0, r.definition.target.settleMs);
      // Each check reads the interval that just ended, so the first one comes an interval in.
      wakeAt(d, Math.max(d.now + Math.max(0, analysis.intervalMs), settled), 'check-0');
      return;
    }
    case 'approval':
      r.state = 'awaiting-approval';
      r.phase = 'approval';
      announce(d, 'approval-needed');
      return;
    case 'webhook':
      r.phase = 'webhook';
      emit(d, { type: 'call-webhook', stepIndex: planned.index, step });
      return;
  }
}

/** Emits the next analysis check of the current step. */
export function runCheck(d: Draft, planned: PlannedStep): void {
  const r = d.next;
  if (planned.step.kind !== 'analysis') return;
  const { analysis, metrics } = stepAnalysis(r.definition, planned.step);
  r.phase = 'checking';
  r.wakeAt = null;
  r.wakeKey = null;
  emit(d, { type: 'evaluate-gates', stepIndex: planned.index, check: r.analysis?.checks ?? 0, analysis, metrics });
}
