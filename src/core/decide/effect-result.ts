// Results of the effects that report back. A result that does not match the current state and
// phase (a duplicate, or one overtaken by a rollback) changes nothing. A transient result is never
// final (effect-retry.ts): the same effect runs again after a backoff; only a permanent one ends a step.

import type { Input } from '../input.js';
import type { Release } from '../release.js';
import { deadlineRollback } from './continue.js';
import { describeStep } from './describe.js';
import type { Decision, Draft } from './draft.js';
import { audit, draft, finish, unchanged, wakeAt } from './draft.js';
import { classifyEffectResult, effectAnswered, failureText, retryEffect } from './effect-retry.js';
import { POLL_MS, promotionDone, promotionStableReady, promotionTrafficDone } from './promote.js';
import { gitCommitResult, gitRevertResult, gitSyncResult, mergeRequestToClose, recordGitOpsPreflight } from './gitops.js';
import { recordStableImage, restoreStableOrSettle, rollbackTrafficWritten, stableRestoreResult } from './restore-stable.js';
import { endRelease, failBeforeChanges, rollbackDone, startRollback } from './rollback.js';
import { advance, plannedStep, stepTrafficDone } from './steps.js';

type EffectResult = Extract<Input, { type: 'effect-result' }>;

/**
 * Not finished yet: look again in a moment, unless the deadline has passed. Rollouts wait in phase
 * `poll`; a traffic write keeps its phase so the tick writes again.
 */
function poll(d: Draft, result: EffectResult, what: string): void {
  const message = result.outcome === 'progressing' ? result.message : undefined;
  if (d.next.deadlineAt !== null && d.now >= d.next.deadlineAt) {
    deadlineRollback(d, what, message);
    return;
  }
  if (message) audit(d, 'waiting', `${what}: ${message}`);
  if (result.effect !== 'set-traffic') d.next.phase = 'poll';
  wakeAt(d, d.now + POLL_MS, `poll-${d.now}`);
}

function stepName(release: Release): string {
  const step = plannedStep(release);
  return step ? `step ${step.index + 1} (${describeStep(step.step)})` : `step ${release.stepIndex + 1}`;
}

/** What cannot happen while `result` is retried, as a sentence fragment. */
function blockedBy(release: Release, effect: EffectResult['effect']): string {
  switch (`${release.state}/${effect}`) {
    case 'pending/preflight':
      return `the pre-flight check on ${release.cluster} could not run`;
    case 'deploying/ensure-canary':
      return 'the canary could not be deployed';
    case 'progressing/set-traffic':
      return `the traffic of ${stepName(release)} could not be written`;
    case 'promoting/ensure-stable':
      return 'the stable Deployment could not get the new image';
    case 'promoting/set-traffic':
      return 'traffic could not be put back on stable (running the new image)';
    case 'promoting/scale-canary':
      return 'the canary could not be scaled down, so the promotion is not done';
    case 'rolling-back/set-traffic':
      return 'traffic could not be put back on stable, so the canary may still receive traffic';
    case 'rolling-back/ensure-stable':
      return `the stable image ${release.stableImageBefore ?? ''} could not be restored`;
    case 'rolling-back/scale-canary':
      return 'the canary could not be scaled down (traffic is on stable)';
    case 'promoting/gitops-commit':
      return 'the promotion could not be written to the config repository';
    case 'promoting/gitops-sync':
    case 'rolling-back/gitops-sync':
      return 'the GitOps controller could not be asked or read';
    case 'rolling-back/gitops-revert': {
      const open = mergeRequestToClose(release);
      return open === null
        ? 'the revert could not be written to the config repository (traffic is on stable)'
        : `merge request !${open.iid} could not be closed, so it may still merge (traffic is on stable)`;
    }
    default:
      return `${effect} did not answer`;
  }
}

export function onEffectResult(release: Release, result: EffectResult, now: number): Decision {
  const key = `${release.state}/${release.phase}/${result.effect}`;
  if (!HANDLERS.has(key)) return unchanged(release);
  const d = draft(release, now);
  const kind = classifyEffectResult(result);
  if (kind === 'retry') {
    retryEffect(d, result, blockedBy(release, result.effect));
    return finish(d);
  }
  effectAnswered(d);
  const ok = kind === 'done';
  const progressing = kind === 'progressing';
  const r = d.next;
  switch (key) {
    case 'pending/preflight/preflight':
      if (ok) {
        r.state = 'deploying';
        r.phase = 'canary';
        r.deadlineAt = now + r.definition.target.readinessDeadlineMs;
        audit(d, 'preflight-ok', r.cluster);
        recordStableImage(d, result.stableImage);
        recordGitOpsPreflight(d, result.gitops);
        d.effects.push(r.definition.target.canary.replicas === undefined
          ? { type: 'ensure-canary', image: r.image }
          : { type: 'ensure-canary', image: r.image, replicas: r.definition.target.canary.replicas });
        d.effects.push({ type: 'report', event: 'started' }, { type: 'notify', event: 'started' });
      } else if (progressing) poll(d, result, 'preflight');
      else failBeforeChanges(d, `preflight failed on ${r.cluster}: ${failureText(result)}`);
      break;
    case 'deploying/canary/ensure-canary':
      if (ok) {
        r.deadlineAt = null;
        audit(d, 'canary-ready', r.image);
        advance(d, -1);
      } else if (progressing) poll(d, result, 'canary');
      else startRollback(d, 'rolled-back', `canary rollout failed: ${failureText(result)}`);
      break;
    case 'progressing/traffic/set-traffic':
      if (ok) stepTrafficDone(d);
      else if (progressing) poll(d, result, 'traffic');
      else startRollback(d, 'rolled-back', `traffic write failed at ${stepName(release)}: ${failureText(result)}`);
      break;
    case 'promoting/stable/ensure-stable':
      if (ok) promotionStableReady(d);
      else if (progressing) poll(d, result, 'stable');
      else startRollback(d, 'rolled-back', `stable rollout failed during promotion: ${failureText(result)}`);
      break;
    case 'promoting/traffic/set-traffic':
      if (ok) promotionTrafficDone(d);
      else if (progressing) poll(d, result, 'traffic');
      else startRollback(d, 'rolled-back', `traffic write failed during promotion: ${failureText(result)}`);
      break;
    case 'promoting/scale-down/scale-canary':
      if (progressing) return unchanged(release);
      if (ok || (result.outcome === 'terminal' && result.code === 'K8S_NOT_FOUND')) promotionDone(d, ok ? undefined : failureText(result));
      // Never `succeeded` while the canary still runs: a refused scale-down fails the release, saying where traffic is.
      else endRelease(d, 'failed', `${r.image} is stable on ${r.cluster} and all traffic is on it, but the canary could not be scaled down and still runs: ${failureText(result)}`);
      break;
    case 'rolling-back/traffic/set-traffic':
      if (ok) rollbackTrafficWritten(d);
      else if (progressing) poll(d, result, 'traffic');
      else endRelease(d, 'failed', `${release.reason ?? 'rollback'}; the rollback's traffic write was refused, traffic may still reach the canary: ${failureText(result)}`);
      break;
    case 'rolling-back/restore/ensure-stable':
      stableRestoreResult(d, result);
      break;
    case 'promoting/git/gitops-commit':
      gitCommitResult(d, result);
      break;
    case 'promoting/sync/gitops-sync':
    case 'rolling-back/revert-sync/gitops-sync':
      gitSyncResult(d, result);
      break;
    case 'rolling-back/git-revert/gitops-revert':
      gitRevertResult(d, result, restoreStableOrSettle);
      break;
    case 'rolling-back/scale-down/scale-canary':
      if (progressing) return unchanged(release);
      rollbackDone(d, ok ? undefined : failureText(result));
      break;
  }
  return finish(d);
}

const HANDLERS: ReadonlySet<string> = new Set([
  'pending/preflight/preflight',
  'deploying/canary/ensure-canary',
  'progressing/traffic/set-traffic',
  'promoting/stable/ensure-stable',
  'promoting/traffic/set-traffic',
  'promoting/scale-down/scale-canary',
  'rolling-back/traffic/set-traffic',
  'rolling-back/restore/ensure-stable',
  'rolling-back/scale-down/scale-canary',
  'promoting/git/gitops-commit',
  'promoting/sync/gitops-sync',
  'rolling-back/git-revert/gitops-revert',
  'rolling-back/revert-sync/gitops-sync',
]);
