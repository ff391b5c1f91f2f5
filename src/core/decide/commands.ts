// Commands from verified, already authorized humans. Approvals bind to the release id and the step;
// commands on ended releases are refused without a change, except retry.

import type { Input } from '../input.js';
import type { LiveState, Release } from '../release.js';
import { isLive } from '../release.js';
import { ALL_STABLE } from '../traffic.js';
import { WAIT_PHASES, continuePhase, rearmWait } from './continue.js';
import { who } from './describe.js';
import type { Decision, Draft } from './draft.js';
import { announce, audit, copyTraffic, draft, emit, finish, refuse } from './draft.js';
import { startPromotion } from './promote.js';
import { QUEUED_PHASE } from './queue-wait.js';
import { endHold, isHeld } from './hold.js';
import { WINDOW_WAIT_KINDS, releaseWindowVerdict } from './window-gate.js';
import { startRollback } from './rollback.js';
import { advance } from './steps.js';

type Command = Extract<Input, { type: 'command' }>;

const RETRYABLE = new Set(['rolled-back', 'failed', 'aborted']);
const PAUSABLE: ReadonlySet<LiveState> = new Set(['progressing', 'awaiting-approval']);
const PROMOTABLE: ReadonlySet<LiveState> = new Set(['progressing', 'paused', 'awaiting-approval']);

function isoSecond(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}Z`;
}

function step(index: number): string {
  return index < 0 ? 'no step yet' : `step ${index + 1}`;
}

function ok(d: Draft, message: string): Decision {
  d.reply = { ok: true, message };
  return finish(d);
}

function approve(release: Release, input: Command, now: number): Decision {
  if (input.stepIndex !== release.stepIndex) {
    return refuse(release, `This approval was for ${step(input.stepIndex)}, the release is on ${step(release.stepIndex)}; approve again if you mean it.`);
  }
  if (release.state !== 'awaiting-approval') {
    return refuse(release, `Release ${release.id} is not waiting for an approval (it is ${release.state} at ${step(release.stepIndex)}).`);
  }
  // A late or replayed command (a redelivered comment, a retried intake job) must not pass an
  // approval canarybot asked for after it was written. Compared to the second: GitLab's times have no more.
  if (input.writtenAt !== undefined && Math.floor(input.writtenAt / 1000) < Math.floor(release.stepStartedAt / 1000)) {
    return refuse(
      release,
      `This approval was written at ${isoSecond(input.writtenAt)}, before canarybot asked for the approval of ${step(release.stepIndex)} at ${isoSecond(release.stepStartedAt)}; approve again if you mean it.`,
    );
  }
  const d = draft(release, now);
  d.next.approvals.push({ releaseId: release.id, stepIndex: release.stepIndex, actor: input.actor, at: now });
  audit(d, 'approved', `${step(release.stepIndex)} by ${who(input.actor)}`, input.actor);
  announce(d, 'approved');
  advance(d, release.stepIndex);
  return ok(d, `Approved ${step(release.stepIndex)} of ${release.service} (${release.image}); moving on.`);
}

function promote(release: Release, input: Command, now: number): Decision {
  const state = release.state as LiveState;
  if (!PROMOTABLE.has(state)) {
    const why = state === 'promoting' ? 'it is already promoting'
      : state === 'rolling-back' ? 'it is rolling back'
        : 'the canary is not deployed yet';
    return refuse(release, `Cannot promote release ${release.id}: ${why}.`);
  }
  const window = releaseWindowVerdict(release, now);
  if (!window.open) {
    return refuse(release, `Cannot promote release ${release.id} now: ${window.reason}. \`/canary override-freeze <reason>\` lifts freezes and deny windows for this release.`);
  }
  if (isHeld(release)) {
    return refuse(release, `Cannot promote release ${release.id}: it is held after ${release.reason ?? 'a failed gate'}. \`/canary resume\` goes on step by step, \`/canary abort\` rolls back.`);
  }
  const failed = release.analysis?.failed ?? 0;
  if (failed > 0) {
    return refuse(release, `Cannot promote release ${release.id}: the analysis of ${step(release.stepIndex)} is failing (${failed} failed check${failed === 1 ? '' : 's'}). Abort, or wait for it to finish.`);
  }
  const d = draft(release, now);
  startPromotion(d, `promoted by ${who(input.actor)} at ${step(release.stepIndex)}, skipping the remaining steps`, input.actor);
  return ok(d, `Promoting ${release.service} (${release.image}), skipping the remaining steps.`);
}

function abort(release: Release, input: Command, now: number): Decision {
  if (release.state === 'rolling-back') return refuse(release, `Release ${release.id} is already rolling back.`);
  const d = draft(release, now);
  const reason = `aborted by ${who(input.actor)}` + (input.reason ? `: ${input.reason}` : '');
  audit(d, 'abort', reason, input.actor);
  startRollback(d, 'aborted', reason);
  return ok(d, `Aborting ${release.service}: traffic goes back to 100 % stable.`);
}

function pause(release: Release, input: Command, now: number): Decision {
  if (release.state === 'paused') return refuse(release, `Release ${release.id} is already paused.`);
  if (!PAUSABLE.has(release.state as LiveState)) {
    return refuse(release, `Cannot pause release ${release.id} while it is ${release.state}.`);
  }
  const d = draft(release, now);
  d.next.resumeTo = { state: release.state as LiveState, phase: release.phase };
  d.next.state = 'paused';
  audit(d, 'paused', `at ${step(release.stepIndex)} by ${who(input.actor)}`, input.actor);
  announce(d, 'paused');
  return ok(d, `Paused ${release.service} at ${step(release.stepIndex)}; \`/canary resume\` continues.`);
}

function resume(release: Release, input: Command, now: number): Decision {
  if (release.state !== 'paused') return refuse(release, `Release ${release.id} is not paused (it is ${release.state}).`);
  const d = draft(release, now);
  const held = isHeld(release);
  audit(d, 'resumed', `at ${step(release.stepIndex)} by ${who(input.actor)}` + (held ? ` after a hold (${release.reason ?? 'a failed gate'})` : ''), input.actor);
  announce(d, 'resumed');
  if (held) {
    endHold(d);
    d.next.reason = null;
    advance(d, release.stepIndex);
    return ok(d, `Resumed ${release.service} past the held ${step(release.stepIndex)}; the next step follows.`);
  }
  const back = release.resumeTo ?? null;
  if (back === null) {
    advance(d, release.stepIndex);
  } else {
    d.next.state = back.state;
    d.next.phase = back.phase;
    d.next.resumeTo = null;
    // Results that came while paused were ignored: re-arm the wait, or redo the effect in flight.
    if (WAIT_PHASES.has(back.phase)) rearmWait(d, `_resume${now}`);
    else if (back.state === 'progressing') continuePhase(d);
  }
  return ok(d, `Resumed ${release.service} at ${step(release.stepIndex)}.`);
}

/** Freezes and deny windows no longer hold this release (audited with the reason); allow windows still apply. */
function overrideFreeze(release: Release, input: Command, now: number): Decision {
  if (release.freezeOverride != null) {
    return refuse(release, `Release ${release.id} already overrides freezes (by ${who(release.freezeOverride.actor)}: ${release.freezeOverride.reason}).`);
  }
  if (!input.reason) return refuse(release, '`/canary override-freeze` needs a reason; it is audited.');
  const d = draft(release, now);
  d.next.freezeOverride = { actor: input.actor, reason: input.reason, at: now };
  audit(d, 'override-freeze', `by ${who(input.actor)}: ${input.reason}`, input.actor);
  const waiting = release.wait != null && WINDOW_WAIT_KINDS.has(release.wait.kind);
  if (waiting && (release.phase === 'window' || release.phase === 'gated')) continuePhase(d);
  else announce(d, 'progress', false);
  return ok(d, `Freezes and deny windows no longer hold ${release.service} (release ${release.id}); audited: ${input.reason}.`);
}

/**
 * Retry reuses the record: same id and image, attempt + 1, from preflight; earlier approvals are dropped.
 * Under a concurrency limit it goes through admission like a new release: it waits in line (phase
 * queued) and the admission starts it, at the back of the line (it had its turn; the retry is a new arrival).
 */
function retry(release: Release, input: Command, now: number): Decision {
  if (!RETRYABLE.has(release.state)) {
    return refuse(release, isLive(release.state)
      ? `Release ${release.id} is still ${release.state}; only a rolled-back, failed or aborted release can be retried.`
      : `Release ${release.id} ended ${release.state}; only a rolled-back, failed or aborted release can be retried.`);
  }
  const d = draft(release, now);
  const r = d.next;
  audit(d, 'retry', `attempt ${release.attempt + 1} by ${who(input.actor)} after ${release.state}: ${release.reason ?? ''}`.trim(), input.actor);
  Object.assign(r, {
    state: 'pending', phase: input.limited === true ? QUEUED_PHASE : 'preflight', attempt: release.attempt + 1, stepIndex: -1, stepStartedAt: now,
    deadlineAt: null, wakeAt: null, wakeKey: null, resumeTo: null, trafficChangedAt: null, analysis: null, approvals: [],
    rollbackOutcome: null, reason: null, endedAt: null,
    traffic: copyTraffic(ALL_STABLE), weights: { ...ALL_STABLE.weights },
  } satisfies Partial<Release>);
  if (r.restoreStable !== undefined) r.restoreStable = false;
  if (input.limited === true) {
    return ok(d, `Retrying ${release.service} with ${release.image} (attempt ${r.attempt}) from the first step once a release slot is free (maxConcurrentReleases).`);
  }
  emit(d, { type: 'preflight' });
  return ok(d, `Retrying ${release.service} with ${release.image} (attempt ${r.attempt}) from the first step.`);
}

/** Every command is audited on its release, refused ones too (who, through which channel, why not), a refusal by the intake (approvals policy) included. */
export function onCommand(release: Release, input: Command, now: number): Decision {
  const decision = input.refusal !== undefined ? refuse(release, input.refusal) : decideCommand(release, input, now);
  if (decision.reply?.ok !== false) return decision;
  const d = draft(release, now);
  audit(d, 'refused', `${input.verb}: ${decision.reply.message}`, input.actor);
  d.reply = decision.reply;
  return finish(d);
}

function decideCommand(release: Release, input: Command, now: number): Decision {
  if (input.releaseId !== release.id) {
    return refuse(release, `This ${input.verb} was for release ${input.releaseId}, this is release ${release.id}.`);
  }
  if (input.verb === 'retry') return retry(release, input, now);
  if (!isLive(release.state)) {
    return refuse(release, `Release ${release.id} has already ended (${release.state}); nothing to ${input.verb}.`);
  }
  switch (input.verb) {
    case 'approve':
      return approve(release, input, now);
    case 'promote':
      return promote(release, input, now);
    case 'abort':
      return abort(release, input, now);
    case 'pause':
      return pause(release, input, now);
    case 'resume':
      return resume(release, input, now);
    case 'override-freeze':
      return overrideFreeze(release, input, now);
  }
}

