import { isLive, type Release } from '../core/release.js';
import type { Metrics } from '../metrics.js';

/** Metrics that follow from a persisted change: step durations and releases by outcome. */
export function recordTransition(metrics: Metrics | undefined, before: Release, after: Release, now: number): void {
  if (!metrics) return;
  const stepChanged = before.stepIndex !== after.stepIndex || before.attempt !== after.attempt;
  const ended = isLive(before.state) && !isLive(after.state);
  if (before.stepIndex >= 0 && (stepChanged || ended)) {
    const step = before.definition.strategy.steps[before.stepIndex];
    if (step) metrics.stepDuration.observe({ kind: step.kind }, Math.max(0, now - before.stepStartedAt) / 1000);
  }
  if (ended) {
    metrics.releasesTotal.inc({ service: after.service, namespace: after.namespace, cluster: after.cluster, outcome: after.state });
    metrics.releaseDuration.observe({ outcome: after.state }, Math.max(0, now - after.createdAt) / 1000);
  }
}

