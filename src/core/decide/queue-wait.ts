// A release behind a concurrency limit waits in phase `queued` (state pending, nothing read or
// written) until the engine admits it with a `start`. What it waits for is the generic `wait`, kind
// `concurrency`, with the releases it waits for named in the sentence; the engine sends a fresh
// sentence whenever the line moves. A tick never starts a queued release: only the admission does.

import type { Input } from '../input.js';
import type { Release } from '../release.js';
import type { Decision, Draft } from './draft.js';
import { announce, audit, draft, finish, unchanged } from './draft.js';

export const QUEUED_PHASE = 'queued';
export const CONCURRENCY_WAIT = 'concurrency';

type Queued = Extract<Input, { type: 'queued' }>;

export function isQueued(release: Release): boolean {
  return release.state === 'pending' && release.phase === QUEUED_PHASE;
}

export function onQueued(release: Release, input: Queued, now: number): Decision {
  if (!isQueued(release)) return unchanged(release);
  if (release.wait?.kind === CONCURRENCY_WAIT && release.wait.sentence === input.sentence) return unchanged(release);
  const d = draft(release, now);
  const first = release.wait?.kind !== CONCURRENCY_WAIT;
  d.next.wait = { kind: CONCURRENCY_WAIT, sentence: input.sentence, since: first ? now : (release.wait?.since ?? now), until: null, link: null };
  if (first) {
    audit(d, 'queued', input.sentence);
    announce(d, 'waiting');
  } else {
    announce(d, 'waiting', false);
  }
  return finish(d);
}

/** Admitted: the concurrency wait ends, audited with how long it lasted. */
export function leaveQueue(d: Draft): void {
  const r = d.next;
  const waited = r.wait?.kind === CONCURRENCY_WAIT ? ` after ${Math.round((d.now - r.wait.since) / 1000)} s in the queue` : '';
  if (r.wait?.kind === CONCURRENCY_WAIT) r.wait = null;
  audit(d, 'admitted', `a release slot is free${waited}`);
  r.phase = 'created';
}
