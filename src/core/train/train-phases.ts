// The phases of a train run and the order between them. A phase names the effect it waits for and
// the members it is outstanding on (`waitingOn`); when the last result is in, the next phase starts.
//
// pending/preflight → deploying/canary (every member with a new image; all must be ready)
//   → opening/lane (lane routes on the members behind the entry) → opening/entry (the entry last)
//   → progressing: the train's steps (weight → settle, pause, analysis ⇄ checking, approval)
//   → [spec.gitops: promoting/git-check → git (one write per config repository: train-gitops.ts)]
//   → promoting/stable (ordered: one member at a time, leaf first; together: all; a member with a
//     GitOps controller waits for it to apply the write) → close-entry
//   → unlane (lane routes last) → settle → scale-down → succeeded
// failure, alert or abort from any live state: rolling-back/close-entry (entry first) → unlane
//   → [git-revert: the writes that landed] → restore (stable images a promotion already changed,
//     or the controllers applying the revert) → settle → scale-down → rolled-back | aborted
//     (failed when a revert was refused)

import type { TrainStep } from './train-definition.js';
import type { TrainDraft } from './train-draft.js';
import {
  entryName,
  laneMembers,
  memberOf,
  phaseTraffic,
  readinessDeadlineMs,
  report,
  settleMs,
  trainAudit,
  wakeTrainAt,
  withCanary,
} from './train-draft.js';
import { gitDeadlineMs, gitRevertRefused, isGitPhase, membersToRestore, planWrites, stableEffect, syncDeadlineMs, writesToRevert } from './train-gitops.js';
import type { TrainEffect, TrainRun, TrainState } from './train-run.js';

/** The member effect a phase waits for, or null for phases that wait for a tick, a check or a person. */
export function phaseEffect(run: TrainRun): Extract<TrainEffect, { type: 'member' }>['effect']['type'] | null {
  switch (run.phase) {
    case 'preflight':
      return 'preflight';
    case 'canary':
      return 'ensure-canary';
    case 'lane':
    case 'entry':
    case 'weight':
    case 'close-entry':
    case 'unlane':
      return 'set-traffic';
    case 'stable':
    case 'restore':
      return 'ensure-stable';
    case 'scale-down':
      return 'scale-canary';
    default:
      return null;
  }
}

/** The effect a phase waits for from this member: in the stable phases, the controller's sync where one applies Git. */
export function memberPhaseEffect(run: TrainRun, name: string): Extract<TrainEffect, { type: 'member' }>['effect']['type'] | null {
  const effect = phaseEffect(run);
  return effect === 'ensure-stable' ? stableEffect(run, memberOf(run, name), '').type : effect;
}

/** Emits the current phase's effect for every member it is still outstanding on (idempotent). */
export function redrive(d: TrainDraft): void {
  const r = d.next;
  for (const name of phaseEffect(r) === null ? [] : r.waitingOn) {
    const member = memberOf(r, name);
    switch (phaseEffect(r)) {
      case 'preflight':
        d.effects.push({ type: 'member', member: name, effect: { type: 'preflight' } });
        break;
      case 'ensure-canary': {
        member.canary = 'deploying';
        const replicas = member.definition.target.canary.replicas;
        const effect = replicas === undefined ? { type: 'ensure-canary' as const, image: member.image ?? '' } : { type: 'ensure-canary' as const, image: member.image ?? '', replicas };
        d.effects.push({ type: 'member', member: name, effect });
        break;
      }
      case 'set-traffic':
        d.effects.push({ type: 'member', member: name, effect: { type: 'set-traffic', traffic: phaseTraffic(r) } });
        break;
      case 'ensure-stable': {
        const image = r.phase === 'restore' ? member.stableImageBefore : member.image;
        if (r.phase === 'stable') member.stable = 'promoting';
        d.effects.push({ type: 'member', member: name, effect: stableEffect(r, member, image ?? '') });
        break;
      }
      case 'scale-canary':
        d.effects.push({ type: 'member', member: name, effect: { type: 'scale-canary', replicas: 0 } });
        break;
      case null:
        break;
    }
  }
  if (isGitPhase(r.phase)) {
    const action = r.phase === 'git-check' ? 'check' : r.phase === 'git' ? 'commit' : 'revert';
    for (const key of r.waitingOn) {
      const write = (r.gitops ?? []).find((candidate) => candidate.key === key);
      if (action === 'commit' && write?.via === 'merge-request') write.mergeRequestAsked = true;
      else if (action === 'commit' && write) write.commitAsked = true;
      d.effects.push({ type: 'gitops', action, write: key });
    }
  }
  if (r.phase === 'checking') {
    d.effects.push({ type: 'evaluate-lane', stepIndex: r.stepIndex, check: r.analysis?.checks ?? 0, members: withCanary(r).map((member) => member.name) });
  }
}

/** Enter a phase that waits for one result per member; with nobody to wait for, it is done at once. */
export function begin(d: TrainDraft, state: TrainState, phase: string, members: string[]): void {
  const r = d.next;
  r.state = state;
  r.phase = phase;
  r.waitingOn = [...members];
  r.retries = 0;
  r.wakeKey = null;
  if (members.length === 0) {
    phaseDone(d);
    return;
  }
  redrive(d);
}

/** The last outstanding result of the phase came back ok: on to the next phase. */
export function phaseDone(d: TrainDraft): void {
  const r = d.next;
  switch (`${r.state}/${r.phase}`) {
    case 'pending/preflight':
      r.deadlineAt = d.now + readinessDeadlineMs(r);
      trainAudit(d, 'deploying', withCanary(r).map((member) => `${member.name} ${member.image}`).join(', '));
      begin(d, 'deploying', 'canary', withCanary(r).map((member) => member.name));
      return;
    case 'deploying/canary':
      r.deadlineAt = null;
      trainAudit(d, 'canaries-ready', withCanary(r).map((member) => member.name).join(', '));
      report(d, 'canaries-ready');
      begin(d, 'opening', 'lane', laneMembers(r));
      return;
    case 'opening/lane':
      if (laneMembers(r).length > 0) trainAudit(d, 'lane-routes', laneMembers(r).join(', '));
      begin(d, 'opening', 'entry', [entryName(r)]);
      return;
    case 'opening/entry':
      r.trafficChangedAt = d.now;
      trainAudit(d, 'entry-open', entryName(r));
      report(d, 'lane-open');
      enterStep(d, 0);
      return;
    case 'progressing/weight':
      r.trafficChangedAt = d.now;
      trainAudit(d, 'cohort', `${r.entryWeight}% at ${entryName(r)}`);
      r.phase = 'settle';
      wakeTrainAt(d, d.now + settleMs(r), 'settle');
      return;
    case 'promoting/git-check':
      begin(d, 'promoting', 'git', (r.gitops ?? []).map((write) => write.key));
      return;
    case 'promoting/git':
      r.deadlineAt = d.now + Math.max(readinessDeadlineMs(r), syncDeadlineMs(r));
      beginStable(d);
      return;
    case 'promoting/stable':
      promoteNext(d);
      return;
    case 'promoting/close-entry':
      trainAudit(d, 'entry-closed', entryName(r));
      begin(d, 'promoting', 'unlane', laneMembers(r));
      return;
    case 'rolling-back/close-entry':
      trainAudit(d, 'entry-closed', entryName(r));
      begin(d, 'rolling-back', 'unlane', laneMembers(r));
      return;
    case 'promoting/unlane':
    case 'rolling-back/unlane':
      if (laneMembers(r).length > 0) trainAudit(d, 'lane-routes-removed', laneMembers(r).join(', '));
      if (r.state === 'rolling-back') {
        begin(d, 'rolling-back', 'git-revert', writesToRevert(r));
        return;
      }
      r.trafficChangedAt = d.now;
      r.phase = 'settle';
      wakeTrainAt(d, d.now + settleMs(r), 'promote-settle');
      return;
    case 'rolling-back/git-revert':
      // The controllers applying a revert are bounded by their sync timeout; canarybot's own restores poll.
      r.deadlineAt = (r.gitops ?? []).some((write) => write.revert !== null) ? d.now + syncDeadlineMs(r) : null;
      begin(d, 'rolling-back', 'restore', membersToRestore(r));
      return;
    case 'rolling-back/restore':
      r.phase = 'settle';
      wakeTrainAt(d, Math.max(d.now, (r.trafficChangedAt ?? d.now) + settleMs(r)), 'rollback-settle');
      return;
    case 'promoting/scale-down':
      endTrain(d, 'succeeded');
      return;
    case 'rolling-back/scale-down':
      // Git could not be put back (a human changed a pin after canarybot's commit): fail loudly.
      endTrain(d, gitRevertRefused(r) === null ? (r.rollbackOutcome ?? 'rolled-back') : 'failed');
      return;
  }
}

export function scaleDown(d: TrainDraft): void {
  const r = d.next;
  begin(d, r.state, 'scale-down', r.members.filter((member) => member.canary !== 'none' && member.canary !== 'scaled-down').map((member) => member.name));
}

function stepChecks(run: TrainRun, step: Extract<TrainStep, { kind: 'analysis' }>): number {
  const interval = run.train.analysis.intervalMs;
  if (step.durationMs !== undefined) return Math.max(1, Math.ceil(step.durationMs / interval));
  return step.count ?? run.train.analysis.count;
}

export function neededChecks(run: TrainRun): number {
  const step = run.train.steps[run.stepIndex];
  return step?.kind === 'analysis' ? stepChecks(run, step) : 0;
}

export function enterStep(d: TrainDraft, index: number): void {
  const r = d.next;
  const step = r.train.steps[index];
  if (!step) {
    startPromotion(d, 'all train steps passed');
    return;
  }
  r.stepIndex = index;
  r.analysis = null;
  r.waitingOn = [];
  r.wakeKey = null;
  trainAudit(d, 'step-started', describeTrainStep(step));
  report(d, 'step-started');
  switch (step.kind) {
    case 'setWeight':
      r.entryWeight = step.weight;
      begin(d, 'progressing', 'weight', [entryName(r)]);
      return;
    case 'pause':
      if (step.durationMs === undefined) {
        r.state = 'awaiting-approval';
        r.phase = 'hold';
        report(d, 'approval-needed');
        return;
      }
      r.state = 'progressing';
      r.phase = 'pause';
      wakeTrainAt(d, d.now + step.durationMs, 'pause');
      return;
    case 'analysis': {
      r.state = 'progressing';
      r.phase = 'analysis';
      r.analysis = { passed: 0, failed: 0, inconclusive: 0, checks: 0 };
      const settled = (r.trafficChangedAt ?? d.now) + settleMs(r);
      wakeTrainAt(d, Math.max(d.now + r.train.analysis.intervalMs, settled), 'check-0');
      return;
    }
    case 'approval':
      r.state = 'awaiting-approval';
      r.phase = 'approval';
      report(d, 'approval-needed');
      return;
  }
}

export function describeTrainStep(step: TrainStep): string {
  switch (step.kind) {
    case 'setWeight':
      return `cohort ${step.weight}%`;
    case 'pause':
      return step.durationMs === undefined ? 'pause (until approved)' : `pause ${step.durationMs / 1000}s`;
    case 'analysis':
      return 'analysis';
    case 'approval':
      return 'approval';
  }
}

/** Promotion order: leaf first (the reverse of the call chain), or every member at once. */
function promotionOrder(run: TrainRun): string[] {
  const names = withCanary(run).map((member) => member.name);
  return run.train.promote === 'ordered' ? names.reverse() : names;
}

export function startPromotion(d: TrainDraft, detail: string, actor: TrainRun['triggeredBy'] = null): void {
  const r = d.next;
  r.analysis = null;
  r.deadlineAt = d.now + readinessDeadlineMs(r);
  trainAudit(d, 'promoting', `${detail}; ${r.train.promote === 'ordered' ? 'leaf first' : 'together'}: ${promotionOrder(r).join(', ')}`, actor);
  report(d, 'promoting');
  // spec.gitops: Git first, for the whole train; the stable images follow it.
  r.gitops = planWrites(r);
  if (r.gitops.length > 0) {
    r.deadlineAt = d.now + Math.max(readinessDeadlineMs(r), gitDeadlineMs(r));
    begin(d, 'promoting', 'git-check', r.gitops.map((write) => write.key));
    return;
  }
  beginStable(d);
}

function beginStable(d: TrainDraft): void {
  const r = d.next;
  const order = promotionOrder(r);
  begin(d, 'promoting', 'stable', r.train.promote === 'ordered' ? order.slice(0, 1) : order);
}

function promoteNext(d: TrainDraft): void {
  const r = d.next;
  const next = promotionOrder(r).find((name) => memberOf(r, name).stable !== 'promoted');
  if (next !== undefined) {
    begin(d, 'promoting', 'stable', [next]);
    return;
  }
  r.deadlineAt = null;
  begin(d, 'promoting', 'close-entry', [entryName(r)]);
}

/**
 * The whole train rolls back: the entry closes first (its traffic write leads the effect list, ahead
 * of anything else this decision asked for), then the lane routes go, then the canaries.
 */
export function startRollback(d: TrainDraft, outcome: 'rolled-back' | 'aborted', reason: string, actor: TrainRun['triggeredBy'] = null): void {
  const r = d.next;
  r.rollbackOutcome = outcome;
  r.reason = reason;
  r.analysis = null;
  r.deadlineAt = null;
  // Nothing was written yet (pre-flight): a refusal ends the train failed, as a single release's pre-flight does.
  if (r.state === 'pending') {
    endTrain(d, outcome === 'aborted' ? 'aborted' : 'failed');
    return;
  }
  const reports = d.effects.filter((effect) => effect.type === 'report');
  d.effects = [];
  trainAudit(d, 'rolling-back', reason, actor);
  begin(d, 'rolling-back', 'close-entry', [entryName(r)]);
  d.effects.push(...reports, { type: 'report', event: 'rolling-back' });
}

export function endTrain(d: TrainDraft, state: 'succeeded' | 'rolled-back' | 'aborted' | 'failed', reason?: string): void {
  const r = d.next;
  r.state = state;
  r.phase = 'done';
  r.waitingOn = [];
  r.wakeKey = null;
  r.deadlineAt = null;
  r.endedAt = d.now;
  if (reason !== undefined) r.reason = reason;
  trainAudit(d, state, r.reason ?? undefined);
  report(d, state);
}
