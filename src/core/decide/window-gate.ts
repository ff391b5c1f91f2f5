// Windows and freezes in the release's walk: outside a window a new release waits before pre-flight;
// a freeze or a closed window mid-release holds the weight (no increase, no promotion) — the step in
// progress, its analysis and the alerts go on, analysis checks keep running at the held weight
// (gated-analysis.ts), and a rollback is never held. The wait is the generic
// `wait` (kind `window` or `freeze`, until the first instant it opens), re-checked at that instant and
// at least every 15 minutes (freeze periods are re-read and may change).

import type { Input } from '../input.js';
import { isLive, type Release } from '../release.js';
import { localTime, windowVerdict, type FreezePeriod, type WindowVerdict } from '../windows.js';
import { continuePhase } from './continue.js';
import type { Decision, Draft } from './draft.js';
import { announce, audit, draft, finish, unchanged, wakeAt } from './draft.js';

export const WINDOW_WAIT_KINDS: ReadonlySet<string> = new Set(['window', 'freeze']);
const RECHECK_MS = 15 * 60_000;

export function releaseWindowVerdict(release: Release, now: number): WindowVerdict {
  // An override lifts freezes and deny windows for this release; allow windows are about when, not whether.
  const overridden = release.freezeOverride != null;
  const windows = (release.definition.windows ?? []).filter((window) => !overridden || window.kind === 'allow');
  return windowVerdict(windows, overridden ? [] : release.freezes ?? [], now);
}

function when(release: Release, at: number | null): string {
  if (at === null) return 'no time within a year';
  const zone = release.definition.windows?.[0]?.timezone ?? release.freezes?.[0]?.timezone ?? 'UTC';
  return `${localTime(at, zone)} (${new Date(at).toISOString()})`;
}

/**
 * True (and the release waits) when the window is closed for `what`; false when open, clearing a
 * window wait this module set.
 */
export function windowClosed(d: Draft, what: 'start' | 'increase', wakeNoLaterThan: number | null = null): boolean {
  const r = d.next;
  const verdict = releaseWindowVerdict(r, d.now);
  if (verdict.open || verdict.kind === null) {
    if (r.wait != null && WINDOW_WAIT_KINDS.has(r.wait.kind)) {
      audit(d, 'window-open', `${r.wait.kind} over after ${Math.round((d.now - r.wait.since) / 60_000)} min`);
      r.wait = null;
    }
    return false;
  }
  const sentence = what === 'start'
    ? `Waiting to start: ${verdict.reason}. It can start at ${when(r, verdict.opensAt)}.`
    : `Holding at canary ${r.weights.canary} % (no increase, no promotion; analysis and alerts go on, and a rollback is always allowed): ${verdict.reason}. It goes on at ${when(r, verdict.opensAt)}; \`/canary override-freeze <reason>\` lifts it for this release.`;
  const first = r.wait?.kind !== verdict.kind;
  r.wait = { kind: verdict.kind, sentence, since: first ? d.now : (r.wait?.since ?? d.now), until: verdict.opensAt, link: null };
  if (first) {
    audit(d, verdict.kind === 'freeze' ? 'frozen' : 'window-closed', sentence);
    announce(d, 'waiting');
  }
  const recheck = Math.min(verdict.opensAt ?? Number.POSITIVE_INFINITY, d.now + RECHECK_MS, wakeNoLaterThan ?? Number.POSITIVE_INFINITY);
  wakeAt(d, recheck, `window-${recheck}`);
  return true;
}

type Freezes = Extract<Input, { type: 'freezes' }>;

function describePeriods(freezes: readonly FreezePeriod[]): string {
  return freezes.length === 0 ? 'none' : freezes.map((period) => `"${period.freezeStart}" to "${period.freezeEnd}" (${period.timezone})`).join('; ');
}

/**
 * The engine re-read the app project's freeze periods (cached, on a schedule) and they changed: the
 * next step boundary honours them; a release waiting on a window or freeze re-checks at once.
 */
export function onFreezes(release: Release, input: Freezes, now: number): Decision {
  if (!isLive(release.state) || JSON.stringify(release.freezes ?? []) === JSON.stringify(input.freezes)) return unchanged(release);
  const d = draft(release, now);
  d.next.freezes = input.freezes;
  audit(d, 'freezes-changed', `GitLab deploy freeze periods now: ${describePeriods(input.freezes)}`);
  const waiting = release.wait != null && WINDOW_WAIT_KINDS.has(release.wait.kind);
  if (waiting && (release.phase === 'window' || release.phase === 'gated')) continuePhase(d);
  return finish(d);
}
