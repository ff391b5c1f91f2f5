// What a due tick does in each state and phase. The same function re-drives a release after a crash
// (the engine's recovery sends a tick) and after `/canary resume`: every effect it re-emits is
// idempotent, and a duplicate result is ignored because the phase has moved on.

import { ALL_STABLE } from '../traffic.js';
import { formatDuration } from './describe.js';
import type { Draft } from './draft.js';
import { emit, wakeAt, writeTraffic } from './draft.js';
import { promotionScaleDown } from './promote.js';
import { redriveStableRestore } from './restore-stable.js';
import { askGitPromotion } from './gitops.js';
import { GATED_CHECKING_PHASE, GATED_PHASE, runGatedCheck } from './gated-analysis.js';
import { releaseWindowVerdict, windowClosed } from './window-gate.js';
import { rollbackScaleDown, startRollback } from './rollback.js';
import { advance, beginAction, plannedStep, runCheck } from './steps.js';

/** Phases that wait for time to pass (their tick is scheduled at `wakeAt`). */
export const WAIT_PHASES: ReadonlySet<string> = new Set(['settle', 'pause', 'analysis', 'webhook-wait', 'poll']);

export function deadlineRollback(d: Draft, what: string, message?: string): void {
  const limit = formatDuration(d.next.definition.target.readinessDeadlineMs);
  startRollback(d, 'rolled-back', `${what} not ready within ${limit}` + (message ? `: ${message}` : ''));
}

/** Runs the current phase's next action, assuming any wait is over. */
export function continuePhase(d: Draft): void {
  const r = d.next;
  r.wakeAt = null;
  r.wakeKey = null;
  switch (r.state) {
    case 'pending':
      // Outside a window a new release waits before anything is read or written.
      if (r.stepIndex < 0 && r.clusterIndex === 0 && windowClosed(d, 'start')) {
        r.phase = 'window';
        return;
      }
      r.phase = 'preflight';
      emit(d, { type: 'preflight' });
      return;
    case 'deploying':
      // The deadline is judged on the rollout's answer, which carries the reason it is not ready.
      r.phase = 'canary';
      emit(d, r.definition.target.canary.replicas === undefined
        ? { type: 'ensure-canary', image: r.image }
        : { type: 'ensure-canary', image: r.image, replicas: r.definition.target.canary.replicas });
      return;
    case 'progressing':
      return continueStep(d);
    case 'promoting':
      if (r.phase === 'stable' || r.phase === 'poll') {
        r.phase = 'stable';
        emit(d, { type: 'ensure-stable', image: r.image });
      } else if (r.phase === 'git') askGitPromotion(d);
      else if (r.phase === 'sync') emit(d, { type: 'gitops-sync', revision: r.gitops?.commit?.sha ?? '', image: r.image });
      else if (r.phase === 'traffic') writeTraffic(d, ALL_STABLE);
      else promotionScaleDown(d);
      return;
    case 'rolling-back':
      if (r.phase === 'traffic') writeTraffic(d, ALL_STABLE);
      else if (r.phase === 'restore' || r.phase === 'restore-poll') redriveStableRestore(d);
      else if (r.phase === 'git-revert') emit(d, { type: 'gitops-revert' });
      else if (r.phase === 'revert-sync') emit(d, { type: 'gitops-sync', revision: r.gitops?.revert?.sha ?? '', image: r.stableImageBefore ?? '' });
      else rollbackScaleDown(d);
      return;
    default:
      return;
  }
}

function continueStep(d: Draft): void {
  const r = d.next;
  const planned = plannedStep(r);
  if (!planned) {
    advance(d, r.stepIndex);
    return;
  }
  switch (r.phase) {
    case 'traffic':
      writeTraffic(d, planned.traffic);
      return;
    case 'settle':
      beginAction(d, planned);
      return;
    case 'pause':
      advance(d, planned.index);
      return;
    case GATED_PHASE:
    case GATED_CHECKING_PHASE:
      // Still held: measure at the held weight; the result re-checks the window. Open: move on.
      if (!releaseWindowVerdict(r, d.now).open && runGatedCheck(d)) return;
      advance(d, planned.index);
      return;
    case 'analysis':
    case 'checking':
      runCheck(d, planned);
      return;
    case 'webhook':
    case 'webhook-wait':
      if (planned.step.kind !== 'webhook') return;
      r.phase = 'webhook';
      emit(d, { type: 'call-webhook', stepIndex: planned.index, step: planned.step });
      return;
    default:
      return;
  }
}

/** Re-arms the current wait (after resume or an early tick) under a key that cannot collide. */
export function rearmWait(d: Draft, keySuffix: string): void {
  const at = Math.max(d.now, d.next.wakeAt ?? d.now);
  wakeAt(d, at, `wait-${d.next.phase}`, keySuffix);
}
