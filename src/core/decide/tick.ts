// A tick: a scheduled wait is over, or the engine re-drives a release after a restart.

import type { Release } from '../release.js';
import { isLive } from '../release.js';
import { continuePhase, rearmWait } from './continue.js';
import type { Decision } from './draft.js';
import { holdTimedOut, isHeld } from './hold.js';
import { isQueued } from './queue-wait.js';
import { draft, finish, unchanged } from './draft.js';

export function onTick(release: Release, now: number, key?: string): Decision {
  // Only the engine's admission starts a release behind a concurrency limit.
  if (isQueued(release)) return unchanged(release);
  if (isHeld(release)) return onHeldTick(release, now, key);
  if (!isLive(release.state) || release.state === 'paused' || release.state === 'awaiting-approval') {
    return unchanged(release);
  }
  // A keyed tick for a wait that is over or was replaced (resume, early tick, a phase overtaken by a
  // command) is stale; only the current wait's tick, or an unkeyed recovery tick, moves the release.
  if (key !== undefined && key !== (release.wakeKey ?? null)) return unchanged(release);
  const d = draft(release, now);
  const due = release.wakeAt ?? null;
  if (due !== null && now < due) {
    // Early (a duplicate, a recovery tick, or clock skew between processes): wait on, under a key
    // of its own so it cannot collide with the job that is running this very tick.
    rearmWait(d, `_r${now}`);
    return finish(d);
  }
  continuePhase(d);
  return finish(d);
}

/** A held release moves only when its hold times out (its own keyed tick, or a recovery tick past the deadline). */
function onHeldTick(release: Release, now: number, key?: string): Decision {
  if (key !== undefined && key !== (release.wakeKey ?? null)) return unchanged(release);
  const due = release.wakeAt ?? null;
  if (due === null || now < due) return unchanged(release);
  const d = draft(release, now);
  holdTimedOut(d);
  return finish(d);
}
