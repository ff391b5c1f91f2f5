// A rollback that began during promotion: the stable Deployment may already run the new image (the
// promotion's first effect sets it), so after 100 % stable is written the previous image recorded at
// preflight goes back on stable, polled like the promotion's rollout and bounded by the readiness
// deadline; only then settle and the canary's scale-down. Without a recorded image (older records,
// or an adapter that cannot tell) the rollback goes on as before and the audit says so.

import type { Input } from '../input.js';
import { formatDuration } from './describe.js';
import type { Draft } from './draft.js';
import { audit, emit, wakeAt } from './draft.js';
import { needsGitRevert, startGitRevert } from './gitops.js';
import { POLL_MS } from './promote.js';
import { endRelease, rollbackSettle, rollbackTrafficDone } from './rollback.js';

type EffectResult = Extract<Input, { type: 'effect-result' }>;

/** Preflight passed: remember the stable image as it is before anything changes on this cluster. */
export function recordStableImage(d: Draft, reported: string | undefined): void {
  const r = d.next;
  if (reported === undefined) return;
  const known = r.stableImageBefore ?? null;
  // A retry after a restore that failed finds its own image on stable: the earlier record stands.
  if (reported === r.image && known !== null && known !== reported) {
    audit(d, 'stable-image', `stable already runs ${reported}; a rollback during promotion restores ${known}`);
    return;
  }
  r.stableImageBefore = reported;
  audit(d, 'stable-image', reported);
}

/** The rollback's traffic write came back ok: restore the stable image if promotion touched it. */
export function rollbackTrafficWritten(d: Draft): void {
  const r = d.next;
  // spec.gitops after the promotion's commit: one revert commit first; the stable image follows Git.
  if (needsGitRevert(r)) {
    r.trafficChangedAt = d.now;
    startGitRevert(d);
    return;
  }
  restoreStableOrSettle(d);
}

/** After the rollback's traffic write (and any Git revert): the previous stable image back when promotion touched it. */
export function restoreStableOrSettle(d: Draft): void {
  const r = d.next;
  // With a GitOps controller canarybot never writes the stable image: the controller applies the revert.
  if (r.definition.gitops?.sync !== undefined && r.gitops?.commit != null) {
    rollbackSettle(d);
    return;
  }
  // spec.gitops before the commit: canarybot never touched the stable image (it follows the commit),
  // and Git may hold someone else's tag by now — restoring the pre-flight image could contradict it.
  if (r.definition.gitops !== undefined && r.gitops?.commit == null) {
    rollbackTrafficDone(d);
    return;
  }
  if (r.restoreStable !== true) {
    rollbackTrafficDone(d);
    return;
  }
  r.trafficChangedAt = d.now;
  const image = r.stableImageBefore ?? null;
  if (image === null) {
    audit(d, 'stable-not-restored',
      `the stable image before this release is unknown (not recorded at preflight); the stable Deployment keeps ${r.image}`);
    rollbackSettle(d);
    return;
  }
  r.deadlineAt = d.now + r.definition.target.readinessDeadlineMs;
  audit(d, 'restoring-stable', `${image} (the promotion had set ${r.image})`);
  redriveStableRestore(d);
}

/** (Re-)asks for the previous stable image; the deadline set when the restore began stands. */
export function redriveStableRestore(d: Draft): void {
  const r = d.next;
  const image = r.stableImageBefore ?? null;
  r.wakeAt = null;
  r.wakeKey = null;
  if (image === null) {
    rollbackSettle(d);
    return;
  }
  r.phase = 'restore';
  emit(d, { type: 'ensure-stable', image });
}

function failureText(result: EffectResult): string {
  if (result.outcome === 'transient' || result.outcome === 'terminal') return `${result.message} (${result.code})`;
  return result.outcome === 'progressing' && result.message ? result.message : 'no answer';
}

function restoreFailed(d: Draft, why: string): void {
  const r = d.next;
  endRelease(d, 'failed', `${r.reason ?? 'rollback'}; restoring the stable image ${r.stableImageBefore ?? ''} failed: ${why}`);
}

/** The ensure-stable result of the restore. */
export function stableRestoreResult(d: Draft, result: EffectResult): void {
  const r = d.next;
  if (result.outcome === 'ok') {
    audit(d, 'stable-restored', r.stableImageBefore ?? undefined);
    rollbackSettle(d);
  } else if (result.outcome !== 'progressing') {
    restoreFailed(d, failureText(result));
  } else if (r.deadlineAt !== null && d.now >= r.deadlineAt) {
    restoreFailed(d, `not ready within ${formatDuration(r.definition.target.readinessDeadlineMs)}: ${failureText(result)}`);
  } else {
    if (result.message) audit(d, 'waiting', `stable restore: ${result.message}`);
    r.phase = 'restore-poll';
    wakeAt(d, d.now + POLL_MS, `restore-poll-${d.now}`);
  }
}
