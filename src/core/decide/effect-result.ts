// Results of the effects that report back. A result that does not match the current state and
// phase (a duplicate, or one overtaken by a rollback) changes nothing.

import type { Input } from '../input.js';
import type { Release } from '../release.js';
import { deadlineRollback } from './continue.js';
import { describeStep } from './describe.js';
import type { Decision, Draft } from './draft.js';
import { audit, draft, finish, unchanged, wakeAt } from './draft.js';
import { POLL_MS, promotionDone, promotionStableReady, promotionTrafficDone } from './promote.js';
import { recordStableImage, rollbackTrafficWritten, stableRestoreResult } from './restore-stable.js';
import { endRelease, rollbackDone, startRollback } from './rollback.js';
import { advance, plannedStep, stepTrafficDone } from './steps.js';

type EffectResult = Extract<Input, { type: 'effect-result' }>;

function failureText(result: EffectResult): string {
  return result.outcome === 'transient' || result.outcome === 'terminal' ? `${result.message} (${result.code})` : '';
}

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

export function onEffectResult(release: Release, result: EffectResult, now: number): Decision {
  const d = draft(release, now);
  const ok = result.outcome === 'ok';
  const progressing = result.outcome === 'progressing';
  const r = d.next;
  switch (`${release.state}/${release.phase}/${result.effect}`) {
    case 'pending/preflight/preflight':
      if (ok) {
        r.state = 'deploying';
        r.phase = 'canary';
        r.deadlineAt = now + r.definition.target.readinessDeadlineMs;
        audit(d, 'preflight-ok', r.cluster);
        recordStableImage(d, result.stableImage);
        d.effects.push(r.definition.target.canary.replicas === undefined
          ? { type: 'ensure-canary', image: r.image }
          : { type: 'ensure-canary', image: r.image, replicas: r.definition.target.canary.replicas });
        d.effects.push({ type: 'report', event: 'started' }, { type: 'notify', event: 'started' });
      } else if (progressing) poll(d, result, 'preflight');
      else endRelease(d, 'failed', `preflight failed on ${r.cluster}: ${failureText(result)}`);
      return finish(d);
    case 'deploying/canary/ensure-canary':
      if (ok) {
        r.deadlineAt = null;
        audit(d, 'canary-ready', r.image);
        advance(d, -1);
      } else if (progressing) poll(d, result, 'canary');
      else startRollback(d, 'rolled-back', `canary rollout failed: ${failureText(result)}`);
      return finish(d);
    case 'progressing/traffic/set-traffic':
      if (ok) stepTrafficDone(d);
      else if (progressing) poll(d, result, 'traffic');
      else {
        const step = plannedStep(release);
        const where = step ? `step ${step.index + 1} (${describeStep(step.step)})` : `step ${release.stepIndex + 1}`;
        startRollback(d, 'rolled-back', `traffic write failed at ${where}: ${failureText(result)}`);
      }
      return finish(d);
    case 'promoting/stable/ensure-stable':
      if (ok) promotionStableReady(d);
      else if (progressing) poll(d, result, 'stable');
      else startRollback(d, 'rolled-back', `stable rollout failed during promotion: ${failureText(result)}`);
      return finish(d);
    case 'promoting/traffic/set-traffic':
      if (ok) promotionTrafficDone(d);
      else if (progressing) poll(d, result, 'traffic');
      else startRollback(d, 'rolled-back', `traffic write failed during promotion: ${failureText(result)}`);
      return finish(d);
    case 'promoting/scale-down/scale-canary':
      if (progressing) return unchanged(release);
      promotionDone(d, ok ? undefined : failureText(result));
      return finish(d);
    case 'rolling-back/traffic/set-traffic':
      if (ok) rollbackTrafficWritten(d);
      else if (progressing) poll(d, result, 'traffic');
      else endRelease(d, 'failed', `${release.reason ?? 'rollback'}; the rollback's traffic write failed: ${failureText(result)}`);
      return finish(d);
    case 'rolling-back/restore/ensure-stable':
      stableRestoreResult(d, result);
      return finish(d);
    case 'rolling-back/scale-down/scale-canary':
      if (progressing) return unchanged(release);
      rollbackDone(d, ok ? undefined : failureText(result));
      return finish(d);
    default:
      return unchanged(release);
  }
}
