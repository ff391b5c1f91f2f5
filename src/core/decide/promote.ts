// Promotion: the stable Deployment gets the new image, traffic returns to 100 % stable (which now
// runs the new image), the canary scales to zero after settle; then the next cluster, or success.

import type { Actor } from '../release.js';
import { ALL_STABLE } from '../traffic.js';
import type { Draft } from './draft.js';
import { announce, audit, emit, wakeAt, writeTraffic } from './draft.js';
import { startGitPromotion, usesGitOps } from './gitops.js';
import { endRelease } from './rollback.js';

export const POLL_MS = 2000;

export function startPromotion(d: Draft, detail?: string, actor: Actor | null = null): void {
  const r = d.next;
  r.state = 'promoting';
  r.phase = 'stable';
  r.analysis = null;
  r.resumeTo = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.deadlineAt = d.now + r.definition.target.readinessDeadlineMs;
  audit(d, 'promoting', detail, actor);
  // spec.gitops: Git first; the stable image follows the commit.
  if (usesGitOps(r)) startGitPromotion(d);
  else emit(d, { type: 'ensure-stable', image: r.image });
  announce(d, 'promoting', false);
}

export function promotionStableReady(d: Draft): void {
  const r = d.next;
  r.phase = 'traffic';
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  audit(d, 'stable-ready', r.image);
  writeTraffic(d, ALL_STABLE);
}

export function promotionTrafficDone(d: Draft): void {
  const r = d.next;
  r.trafficChangedAt = d.now;
  r.phase = 'settle';
  d.next.timeline.push({ at: d.now, canaryWeight: 0, successRate: null });
  wakeAt(d, d.now + Math.max(0, r.definition.target.settleMs), 'promote-settle');
}

export function promotionScaleDown(d: Draft): void {
  d.next.phase = 'scale-down';
  d.next.wakeAt = null;
  d.next.wakeKey = null;
  emit(d, { type: 'scale-canary', replicas: 0 });
}

/** Promoted on this cluster: on to the next one within the same record, or done. */
export function promotionDone(d: Draft, scaleError?: string): void {
  const r = d.next;
  if (scaleError !== undefined) audit(d, 'scale-down-failed', scaleError);
  const clusters = r.definition.target.clusters;
  const nextCluster = clusters[r.clusterIndex + 1];
  if (nextCluster === undefined) {
    endRelease(d, 'succeeded');
    return;
  }
  audit(d, 'cluster-promoted', r.cluster);
  r.promotedClusters = [...(r.promotedClusters ?? []), { index: r.clusterIndex, cluster: r.cluster, stableImageBefore: r.stableImageBefore ?? null, ...(r.gitops ? { gitops: r.gitops } : {}) }];
  r.clusterIndex += 1;
  r.cluster = nextCluster;
  r.state = 'pending';
  r.phase = 'preflight';
  r.stepIndex = -1;
  r.stepStartedAt = d.now;
  r.analysis = null;
  r.deadlineAt = null;
  r.wakeAt = null;
  r.wakeKey = null;
  r.trafficChangedAt = null;
  // The next cluster's stable image is read by its own preflight.
  if (r.stableImageBefore !== undefined) r.stableImageBefore = null;
  r.traffic = { ...ALL_STABLE, weights: { ...ALL_STABLE.weights } };
  r.weights = { ...ALL_STABLE.weights };
  emit(d, { type: 'preflight' });
  announce(d, 'progress', false);
}
