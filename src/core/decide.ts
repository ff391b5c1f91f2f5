// The release state machine: (release, input, now) → (next release, effects[, reply]). Pure and
// deterministic; `next` is a new object whenever anything changed (updatedAt = now) and `release` is
// never mutated; `next === release` with no effects means "nothing to do".
//
// state/phase              waits for                          then
// pending/created          start (or tick)                    preflight
// pending/queued           start (concurrency limits: the engine admits it)  preflight; ticks do nothing
// pending/preflight        preflight result                   ok: deploying; failure: failed (no traffic effect)
// deploying/canary|poll    ensure-canary result, poll 2 s      ok: step 0; past readinessDeadlineMs or failure: rollback
// progressing/traffic      set-traffic result (step's traffic) ok: settle
// progressing/settle       tick at trafficChangedAt + settle   the step's action (setWeight/setMirror: next step)
// progressing/pause        tick at end of a timed pause        next step (untimed: paused/hold until resume)
// progressing/analysis     tick (first check one interval in)  checking: evaluate-gates
// progressing/checking     gate-result for this step           pass×needed: next step; over a limit: rollback
// progressing/webhook(-wait) gate-result / retry tick          pass: next; fail or errors over limit: rollback
// awaiting-approval        approve for this release and step   next step
// paused (resumeTo)        resume                              back to the phase, re-armed / effect redone
// promoting/stable|poll    ensure-stable result               traffic ALL_STABLE → settle → scale-down → next cluster or succeeded
// rolling-back/traffic     set-traffic ALL_STABLE result       settle → scale-down → rolled-back | aborted | superseded
//                          (traffic write fails → failed)
// rolling-back/restore|restore-poll  (rollback begun while promoting) ensure-stable(stableImageBefore), poll 2 s
//                          ok: settle → scale-down; failure or past readinessDeadlineMs: failed
// A tick re-drives the current phase (re-emitting its idempotent effect), so the engine's recovery
// only needs to send a tick. Retry reuses the record: attempt + 1, from preflight, approvals dropped.

import type { Input } from './input.js';
import type { Release } from './release.js';
import { onCommand } from './decide/commands.js';
import type { Decision } from './decide/draft.js';
import { draft, finish, unchanged } from './decide/draft.js';
import { continuePhase } from './decide/continue.js';
import { onEffectResult } from './decide/effect-result.js';
import { onGateResult } from './decide/gate-result.js';
import { onAlert, onSuperseded } from './decide/interrupts.js';
import { onTick } from './decide/tick.js';
import { onFreezes } from './decide/window-gate.js';
import { QUEUED_PHASE, leaveQueue, onQueued } from './decide/queue-wait.js';

export type { Decision, Reply } from './decide/draft.js';

function onStart(release: Release, now: number): Decision {
  if (release.state !== 'pending' || (release.phase !== 'created' && release.phase !== QUEUED_PHASE)) return unchanged(release);
  const d = draft(release, now);
  if (release.phase === QUEUED_PHASE) leaveQueue(d);
  continuePhase(d);
  return finish(d);
}

export function decide(release: Release, input: Input, now: number): Decision {
  switch (input.type) {
    case 'start':
      return onStart(release, now);
    case 'tick':
      return onTick(release, now, input.key);
    case 'effect-result':
      return onEffectResult(release, input, now);
    case 'gate-result':
      return onGateResult(release, input, now);
    case 'command':
      return onCommand(release, input, now);
    case 'alert':
      return onAlert(release, input, now);
    case 'superseded':
      return onSuperseded(release, input, now);
    case 'queued':
      return onQueued(release, input, now);
    case 'freezes':
      return onFreezes(release, input, now);
  }
}
