// Verdicts of analysis checks and webhook gates (DESIGN §9): a step passes after its needed passed
// checks; it fails when failures exceed failureLimit, inconclusive checks exceed inconclusiveLimit or
// consecutive errors exceed consecutiveErrorLimit. Inconclusive and error never count as a pass.

import type { CheckResult, Verdict } from '../gate.js';
import type { Input } from '../input.js';
import type { PlannedStep } from '../plan.js';
import { stepAnalysis } from '../plan.js';
import type { AnalysisProgress, Release } from '../release.js';
import { measurementFigure, stepLocation } from './describe.js';
import type { Decision, Draft } from './draft.js';
import { announce, audit, draft, finish, timelinePoint, unchanged, wakeAt } from './draft.js';
import { failOrHold, gateFailureHolds, polledAlertsHold } from './hold.js';
import { GATED_CHECKING_PHASE, gatedCheckResult } from './gated-analysis.js';
import { NO_ANALYSIS, advance, plannedStep } from './steps.js';
import { planSteps } from '../plan.js';

type GateResult = Extract<Input, { type: 'gate-result' }>;

function count(progress: AnalysisProgress, verdict: Verdict): AnalysisProgress {
  const next = { ...progress, checks: progress.checks + 1 };
  if (verdict === 'error') return { ...next, consecutiveErrors: next.consecutiveErrors + 1 };
  next.consecutiveErrors = 0;
  if (verdict === 'pass') next.passed += 1;
  else if (verdict === 'fail') next.failed += 1;
  else next.inconclusive += 1;
  return next;
}

/** The figure behind a verdict: the first measurement with that verdict. */
function figure(check: CheckResult, verdict: Verdict): string {
  const m = check.measurements.find((x) => x.verdict === verdict);
  return m ? measurementFigure(m) : `check ${verdict} with no measurement`;
}

function successRate(check: CheckResult): number | null {
  const m = check.measurements.find((x) => x.name === 'request-success-rate');
  return m && m.value !== null && Number.isFinite(m.value) ? m.value : null;
}

function record(d: Draft, stepIndex: number, check: CheckResult, progress: AnalysisProgress, of: string): void {
  d.next.gates.push({ stepIndex, check });
  d.next.analysis = progress;
  timelinePoint(d, successRate(check));
  const figures = check.measurements.map((m) => `${m.name}=${m.value ?? 'none'} ${m.verdict}`).join(', ');
  audit(d, 'check', `check ${progress.checks}${of}: ${check.verdict}` + (figures ? ` (${figures})` : ''));
}

/** Hold or roll back: metrics follow onFailure, polled alerts their sources' onFire; any rollback wins. */
function holds(d: Draft, check: CheckResult): boolean {
  const definition = d.next.definition;
  const failing = check.measurements.filter((m) => m.verdict !== 'pass');
  const alerts = failing.filter((m) => m.name.startsWith('alert:'));
  if (alerts.length > 0 && !polledAlertsHold(definition)) return false;
  return alerts.length === failing.length && alerts.length > 0 ? true : gateFailureHolds(definition);
}

function analysisResult(d: Draft, planned: PlannedStep, result: GateResult): void {
  if (planned.step.kind !== 'analysis') return;
  const { analysis, neededChecks } = stepAnalysis(d.next.definition, planned.step);
  const { check } = result;
  const progress = count(d.next.analysis ?? NO_ANALYSIS, check.verdict);
  record(d, planned.index, check, progress, `, ${progress.passed}/${neededChecks} passed`);
  const where = stepLocation(planSteps(d.next.definition), planned.index);

  const critical = check.measurements.find((m) => m.verdict === 'fail' && m.critical);
  if (progress.failed > analysis.failureLimit) {
    failOrHold(d, holds(d, check), `${figure(check, 'fail')} at ${where}`);
  } else if (critical) {
    // A critical judged metric fails the whole analysis at once, whatever failureLimit allows.
    failOrHold(d, holds(d, check), `${measurementFigure(critical)} at ${where} (critical: fails the analysis at once)`);
  } else if (progress.inconclusive > analysis.inconclusiveLimit) {
    failOrHold(d, holds(d, check),
      `${progress.inconclusive} inconclusive checks (inconclusiveLimit ${analysis.inconclusiveLimit}) at ${where}: ${figure(check, 'inconclusive')}`);
  } else if (progress.consecutiveErrors > analysis.consecutiveErrorLimit) {
    failOrHold(d, holds(d, check),
      `${progress.consecutiveErrors} checks in a row could not be evaluated (consecutiveErrorLimit ${analysis.consecutiveErrorLimit}) at ${where}: ${figure(check, 'error')}`);
  } else if (progress.passed >= neededChecks) {
    audit(d, 'step-passed', `${progress.passed} of ${progress.checks} checks passed`);
    advance(d, planned.index);
  } else {
    d.next.phase = 'analysis';
    wakeAt(d, d.now + Math.max(0, analysis.intervalMs), `check-${progress.checks}`);
    announce(d, 'progress', false);
  }
}

/** A webhook gate: 2xx passes, another status fails, an unreachable hook is retried up to the error limit. */
function webhookResult(d: Draft, planned: PlannedStep, result: GateResult): void {
  if (planned.step.kind !== 'webhook') return;
  const { check } = result;
  const progress = count(d.next.analysis ?? NO_ANALYSIS, check.verdict);
  record(d, planned.index, check, progress, '');
  const where = stepLocation(planSteps(d.next.definition), planned.index);
  const limit = d.next.definition.analysis.consecutiveErrorLimit;

  if (check.verdict === 'pass') {
    audit(d, 'step-passed', `webhook ${planned.step.name}`);
    advance(d, planned.index);
  } else if (check.verdict === 'fail') {
    failOrHold(d, holds(d, check), `webhook ${planned.step.name} failed at ${where}: ${figure(check, 'fail')}`);
  } else if (progress.checks > limit) {
    failOrHold(d, holds(d, check),
      `webhook ${planned.step.name} gave no verdict ${progress.checks} times (consecutiveErrorLimit ${limit}) at ${where}: ${figure(check, check.verdict)}`);
  } else {
    d.next.phase = 'webhook-wait';
    wakeAt(d, d.now + Math.max(0, d.next.definition.analysis.intervalMs), `webhook-${progress.checks}`);
  }
}

export function onGateResult(release: Release, result: GateResult, now: number): Decision {
  if (release.state !== 'progressing' || result.stepIndex !== release.stepIndex) return unchanged(release);
  if (release.phase === GATED_CHECKING_PHASE) {
    const d = draft(release, now);
    if (gatedCheckResult(d, result.check)) advance(d, release.stepIndex);
    return finish(d);
  }
  const planned = plannedStep(release);
  if (!planned) return unchanged(release);
  const d = draft(release, now);
  if (planned.step.kind === 'analysis' && release.phase === 'checking') analysisResult(d, planned, result);
  else if (planned.step.kind === 'webhook' && release.phase === 'webhook') webhookResult(d, planned, result);
  else return unchanged(release);
  return finish(d);
}
