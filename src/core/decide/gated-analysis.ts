// While a freeze or a closed window holds the weight (phase `gated`), the analysis goes on at the
// held weight, as the alerts do: the checks of the last analysis step run so far (else spec.analysis)
// every interval, and a failure over its limits rolls back (or holds, per onFailure) as in a step.
// The counters start again after each round of `count` checks, so a long freeze is judged round by
// round, not by inconclusive checks piling up over hours. Nothing runs while the canary takes no
// traffic (no weight, no mirror): there would be nothing to measure.

import type { AnalysisSpec, MetricCheck } from '../definition.js';
import type { CheckResult, Verdict } from '../gate.js';
import { planSteps, stepAnalysis } from '../plan.js';
import type { AnalysisProgress, Release } from '../release.js';
import { measurementFigure } from './describe.js';
import type { Draft } from './draft.js';
import { announce, audit, emit, timelinePoint } from './draft.js';
import { failOrHold, gateFailureHolds, polledAlertsHold } from './hold.js';

export const GATED_PHASE = 'gated';
export const GATED_CHECKING_PHASE = 'gated-checking';
const NONE: AnalysisProgress = { passed: 0, failed: 0, inconclusive: 0, consecutiveErrors: 0, checks: 0 };

export interface GatedAnalysis {
  analysis: AnalysisSpec;
  metrics: MetricCheck[];
}

/** What runs while the weight is held at `stepIndex`, or null when nothing can be measured. */
export function gatedAnalysis(release: Release): GatedAnalysis | null {
  if (release.weights.canary <= 0 && release.traffic.mirrorPercent <= 0) return null;
  const steps = planSteps(release.definition).slice(0, release.stepIndex + 1).map((planned) => planned.step);
  const last = steps.reverse().find((step) => step.kind === 'analysis');
  const { analysis, metrics } = last?.kind === 'analysis'
    ? stepAnalysis(release.definition, last)
    : { analysis: release.definition.analysis, metrics: release.definition.analysis.metrics };
  if (metrics.length === 0 && release.definition.alerts.length === 0) return null;
  return { analysis: { ...analysis, count: Math.max(1, release.definition.analysis.count) }, metrics };
}

/** The next check falls due no later than this (null: no analysis while gated). */
export function nextGatedCheckAt(release: Release, now: number): number | null {
  const gated = gatedAnalysis(release);
  return gated ? now + Math.max(1_000, gated.analysis.intervalMs) : null;
}

/** Runs one check at the held weight. */
export function runGatedCheck(d: Draft): boolean {
  const gated = gatedAnalysis(d.next);
  if (!gated) return false;
  d.next.phase = GATED_CHECKING_PHASE;
  d.next.wakeAt = null;
  d.next.wakeKey = null;
  if (d.next.analysis === null) d.next.analysis = { ...NONE };
  emit(d, { type: 'evaluate-gates', stepIndex: d.next.stepIndex, check: d.next.analysis.checks, analysis: gated.analysis, metrics: gated.metrics });
  return true;
}

function count(progress: AnalysisProgress, verdict: Verdict): AnalysisProgress {
  const next = { ...progress, checks: progress.checks + 1 };
  if (verdict === 'error') return { ...next, consecutiveErrors: next.consecutiveErrors + 1 };
  next.consecutiveErrors = 0;
  if (verdict === 'pass') next.passed += 1;
  else if (verdict === 'fail') next.failed += 1;
  else next.inconclusive += 1;
  return next;
}

function holds(d: Draft, check: CheckResult): boolean {
  const failing = check.measurements.filter((m) => m.verdict !== 'pass');
  const alerts = failing.filter((m) => m.name.startsWith('alert:'));
  if (alerts.length > 0 && !polledAlertsHold(d.next.definition)) return false;
  return alerts.length === failing.length && alerts.length > 0 ? true : gateFailureHolds(d.next.definition);
}

/**
 * A check's verdict while gated: true when the release goes on waiting (the caller re-checks the
 * window and schedules the next check), false when it failed and is rolling back or held.
 */
export function gatedCheckResult(d: Draft, check: CheckResult): boolean {
  const r = d.next;
  const gated = gatedAnalysis(r);
  const limits = gated?.analysis ?? r.definition.analysis;
  const progress = count(r.analysis ?? NONE, check.verdict);
  r.gates.push({ stepIndex: r.stepIndex, check });
  timelinePoint(d, check.measurements.find((m) => m.name === 'request-success-rate')?.value ?? null);
  const figures = check.measurements.map((m) => `${m.name}=${m.value ?? 'none'} ${m.verdict}`).join(', ');
  audit(d, 'check', `check ${progress.checks} while held at canary ${r.weights.canary} %: ${check.verdict}` + (figures ? ` (${figures})` : ''));
  const where = `canary ${r.weights.canary} %, held by ${r.wait?.kind === 'window' ? 'a closed window' : 'a freeze'}`;
  const first = (verdict: Verdict) => check.measurements.find((m) => m.verdict === verdict);
  const critical = check.measurements.find((m) => m.verdict === 'fail' && m.critical);
  let failure: string | null = null;
  if (progress.failed > limits.failureLimit) failure = `${first('fail') ? measurementFigure(first('fail')!) : 'a failed check'} at ${where}`;
  else if (critical) failure = `${measurementFigure(critical)} at ${where} (critical: fails the analysis at once)`;
  else if (progress.inconclusive > limits.inconclusiveLimit) failure = `${progress.inconclusive} inconclusive checks (inconclusiveLimit ${limits.inconclusiveLimit}) at ${where}`;
  else if (progress.consecutiveErrors > limits.consecutiveErrorLimit) failure = `${progress.consecutiveErrors} checks in a row could not be evaluated (consecutiveErrorLimit ${limits.consecutiveErrorLimit}) at ${where}`;
  if (failure !== null) {
    r.analysis = progress;
    failOrHold(d, holds(d, check), failure);
    return false;
  }
  // A round of `count` checks within the limits: the next round starts from zero.
  r.analysis = progress.checks >= limits.count ? { ...NONE } : progress;
  r.phase = GATED_PHASE;
  announce(d, 'progress', false);
  return true;
}
