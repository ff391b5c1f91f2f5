// Rollback: 100 % stable first (never delayed by settle), then — when it began during promotion — the
// stable Deployment's previous image back (restore-stable.ts), then the scale-down after settle, then
// the terminal state. A release that never passed preflight has touched nothing and ends at once.

import { DEFAULT_ON_FAILURE } from '../definition.js';
import type { PromotedCluster, Release, TerminalState } from '../release.js';
import { ALL_STABLE } from '../traffic.js';
import type { Draft } from './draft.js';
import { HOLD_WAIT } from './hold-wait.js';
import { WINDOW_WAIT_KINDS } from './window-gate.js';
import { CONCURRENCY_WAIT } from './queue-wait.js';
import { announce, audit, copyTraffic, wakeAt } from './draft.js';
import { clearRetry } from './effect-retry.js';

export type RollbackOutcome = NonNullable<Release['rollbackOutcome']>;

/** Ends the release in a terminal state and tells GitLab and chat. */
export function endRelease(d: Draft, state: TerminalState, reason?: string): void {
  const r = d.next;
  r.state = state;
  r.phase = 'done';
  r.endedAt = d.now;
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.resumeTo = null;
  clearRetry(d);
  if (r.wait != null && (r.wait.kind === HOLD_WAIT || r.wait.kind === CONCURRENCY_WAIT || WINDOW_WAIT_KINDS.has(r.wait.kind))) r.wait = null;
  if (reason !== undefined) r.reason = reason;
  audit(d, state, r.reason ?? undefined);
  announce(d, state === 'succeeded' ? 'promoted' : state);
}

export function startRollback(d: Draft, outcome: RollbackOutcome, reason: string): void {
  const r = d.next;
  // Promotion sets the new image on stable first: from then on, "100 % stable" alone is not a way back.
  const duringPromotion = r.state === 'promoting';
  if (duringPromotion || r.restoreStable !== undefined) r.restoreStable = duringPromotion;
  if (r.state === 'pending') {
    r.rollbackOutcome = outcome;
    endRelease(d, outcome, reason);
    return;
  }
  clearRetry(d);
  r.state = 'rolling-back';
  r.phase = 'traffic';
  r.rollbackOutcome = outcome;
  r.reason = reason;
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.resumeTo = null;
  // A rollback ends a hold or a window wait: it is never held by either.
  if (r.wait != null && (r.wait.kind === HOLD_WAIT || WINDOW_WAIT_KINDS.has(r.wait.kind))) r.wait = null;
  // Put the traffic write first in the effect list whatever came before: the executor runs effects
  // in order, and nothing may happen before stable has all the traffic again.
  const traffic = copyTraffic(ALL_STABLE);
  r.traffic = traffic;
  r.weights = { ...traffic.weights };
  d.effects.unshift({ type: 'set-traffic', traffic: copyTraffic(ALL_STABLE) });
  audit(d, 'rolling-back', reason);
  announce(d, 'rolling-back');
}

/** The rollback's traffic write came back ok: settle, then scale the canary down. */
export function rollbackTrafficDone(d: Draft): void {
  d.next.trafficChangedAt = d.now;
  rollbackSettle(d);
}

/** Wait until settle has passed since the rollback's traffic write (at once if it already has). */
export function rollbackSettle(d: Draft): void {
  const r = d.next;
  r.phase = 'settle';
  r.deadlineAt = null;
  wakeAt(d, Math.max(d.now, (r.trafficChangedAt ?? d.now) + Math.max(0, r.definition.target.settleMs)), 'rollback-settle');
}

export function rollbackScaleDown(d: Draft): void {
  d.next.phase = 'scale-down';
  d.next.wakeAt = null;
  d.next.wakeKey = null;
  d.effects.push({ type: 'scale-canary', replicas: 0 });
}

export function rollbackDone(d: Draft, scaleError?: string): void {
  if (scaleError !== undefined) audit(d, 'scale-down-failed', scaleError);
  // spec.gitops: Git could not be put back (a human changed the value, or the controller failed): fail loudly.
  if ((d.next.gitops?.revertRefused ?? null) !== null) {
    endRelease(d, 'failed');
    return;
  }
  audit(d, 'cluster-rolled-back', d.next.cluster);
  if (unwindPromoted(d)) return;
  endRelease(d, d.next.rollbackOutcome ?? 'rolled-back');
}

/**
 * The promoted cluster to roll back next, newest first: one before the current cluster, when the
 * definition rolls promoted clusters back. A superseded release leaves them to the newer release.
 */
function nextToUnwind(r: Release): PromotedCluster | undefined {
  if ((r.definition.onFailure ?? DEFAULT_ON_FAILURE) === 'keepPromoted' || r.rollbackOutcome === 'superseded') return undefined;
  return (r.promotedClusters ?? []).filter((promoted) => promoted.index < r.clusterIndex).at(-1);
}

/**
 * After this cluster's rollback (or a failure that touched nothing here): roll back the next promoted
 * cluster — 100 % stable first, then its previous stable image, then the scale-down — by moving the
 * record to it. False when none is left (or the definition keeps them: the audit says which).
 */
export function unwindPromoted(d: Draft): boolean {
  const r = d.next;
  const next = nextToUnwind(r);
  if (!next) {
    const kept = (r.promotedClusters ?? []).filter((promoted) => promoted.index < r.clusterIndex);
    if (kept.length > 0) {
      const why = r.rollbackOutcome === 'superseded' ? 'superseded: the newer release replaces it' : 'spec.onFailure: keepPromoted';
      audit(d, 'clusters-kept', `${kept.map((promoted) => promoted.cluster).join(', ')} keep ${r.image} (${why})`);
    }
    return false;
  }
  r.promotedClusters = (r.promotedClusters ?? []).filter((promoted) => promoted.index !== next.index);
  r.clusterIndex = next.index;
  r.cluster = next.cluster;
  r.state = 'rolling-back';
  r.phase = 'traffic';
  r.restoreStable = true;
  r.stableImageBefore = next.stableImageBefore;
  // spec.gitops: that cluster's own commit is reverted first (restore-stable.ts), never its image before Git holds it.
  if (next.gitops !== undefined) r.gitops = next.gitops;
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.trafficChangedAt = null;
  clearRetry(d);
  const traffic = copyTraffic(ALL_STABLE);
  r.traffic = traffic;
  r.weights = { ...traffic.weights };
  d.effects.push({ type: 'set-traffic', traffic: copyTraffic(ALL_STABLE) });
  audit(d, 'cluster-rolling-back', `${next.cluster} (promoted earlier): 100 % stable, then ${next.stableImageBefore ?? 'its previous image (unknown, kept)'} back on stable`);
  announce(d, 'rolling-back', false);
  return true;
}

/** A permanent failure on a cluster where nothing was changed yet (pre-flight): roll back the promoted ones, or end. */
export function failBeforeChanges(d: Draft, reason: string): void {
  const r = d.next;
  r.rollbackOutcome = 'rolled-back';
  r.reason = reason;
  audit(d, 'failed-before-changes', `${r.cluster}: ${reason}`);
  if (unwindPromoted(d)) return;
  r.rollbackOutcome = null;
  endRelease(d, 'failed', reason);
}
