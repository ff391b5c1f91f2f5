// Release windows and deploy freezes, pure: is a release allowed to start or to move traffic up at
// `now`, and if not, why and from when. Definition windows follow Argo CD's sync windows (a cron
// start, a duration, a time zone; deny wins over allow; with any allow window, outside all of them is
// closed). GitLab deploy freeze periods are frozen from the last `freeze_start` until the next
// `freeze_end`, both crons in `cron_timezone`. Crons are evaluated by cron-parser (luxon time zones,
// so a DST change moves the UTC instant and a skipped local hour fires at the first valid minute).

import { CronExpressionParser } from 'cron-parser';
import { formatDuration } from './duration.js';

export interface ReleaseWindow {
  kind: 'allow' | 'deny';
  cron: string;
  durationMs: number;
  timezone: string;
}

/** A GitLab deploy freeze period (GET /projects/:id/freeze_periods), as crons in its time zone. */
export interface FreezePeriod {
  freezeStart: string;
  freezeEnd: string;
  timezone: string;
}

export interface WindowVerdict {
  open: boolean;
  kind: 'window' | 'freeze' | null;
  /** Why it is closed (empty when open). */
  reason: string;
  /** The first instant it is open again (null: open now, or not within a year). */
  opensAt: number | null;
}

const HORIZON_MS = 366 * 86_400_000;

function fire(cron: string, timezone: string, at: number, direction: 'prev' | 'next'): number | null {
  try {
    // prev() is strictly before currentDate: a fire exactly at `at` counts as the last one.
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date(direction === 'prev' ? at + 1 : at), tz: timezone });
    return (direction === 'prev' ? expression.prev() : expression.next()).getTime();
  } catch {
    return null;
  }
}

/** A cron and time zone cron-parser accepts; the message otherwise. */
export function cronProblem(cron: string, timezone: string): string | null {
  try {
    CronExpressionParser.parse(cron, { tz: timezone }).next();
  } catch (error) {
    return (error as Error).message;
  }
  if (!isTimeZone(timezone)) return `unknown time zone ${timezone}`;
  return null;
}

export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The end of the window occurrence that contains `at`, or null when `at` is outside the window. */
function activeUntil(window: ReleaseWindow, at: number): number | null {
  const start = fire(window.cron, window.timezone, at, 'prev');
  return start !== null && at < start + window.durationMs ? start + window.durationMs : null;
}

/** When the freeze that contains `at` ends, or null when `at` is not frozen. */
function frozenUntil(period: FreezePeriod, at: number): number | null {
  const started = fire(period.freezeStart, period.timezone, at, 'prev');
  const ended = fire(period.freezeEnd, period.timezone, at, 'prev');
  if (started === null || (ended !== null && ended >= started)) return null;
  return fire(period.freezeEnd, period.timezone, at, 'next') ?? Number.POSITIVE_INFINITY;
}

export function localTime(at: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${timezone}`;
}

function describeWindow(window: ReleaseWindow): string {
  return `${window.kind} window "${window.cron}" for ${formatDuration(window.durationMs)} (${window.timezone})`;
}

interface Blocked {
  kind: 'window' | 'freeze';
  reason: string;
  /** Instants at which this block may lift (window ends, freeze ends, allow windows opening). */
  lifts: number[];
}

function blocked(windows: readonly ReleaseWindow[], freezes: readonly FreezePeriod[], at: number): Blocked | null {
  for (const period of freezes) {
    const until = frozenUntil(period, at);
    if (until !== null) {
      return { kind: 'freeze', reason: `a GitLab deploy freeze (from "${period.freezeStart}" to "${period.freezeEnd}", ${period.timezone}) is in force`, lifts: [until] };
    }
  }
  for (const window of windows.filter((candidate) => candidate.kind === 'deny')) {
    const until = activeUntil(window, at);
    if (until !== null) return { kind: 'window', reason: `the ${describeWindow(window)} is in force`, lifts: [until] };
  }
  const allows = windows.filter((candidate) => candidate.kind === 'allow');
  if (allows.length === 0 || allows.some((window) => activeUntil(window, at) !== null)) return null;
  const starts = allows.map((window) => fire(window.cron, window.timezone, at, 'next')).filter((x): x is number => x !== null);
  return { kind: 'window', reason: `it is outside every allow window (${allows.map(describeWindow).join('; ')})`, lifts: starts };
}

/** May a release start (or move its traffic up) at `now`? */
export function windowVerdict(windows: readonly ReleaseWindow[], freezes: readonly FreezePeriod[], now: number): WindowVerdict {
  const first = blocked(windows, freezes, now);
  if (!first) return { open: true, kind: null, reason: '', opensAt: null };
  // Openness changes only at the instants a block lifts: step through them in order.
  let at = now;
  let current: Blocked | null = first;
  for (let i = 0; i < 500 && current !== null; i += 1) {
    const next = Math.min(...current.lifts.filter((lift) => lift > at));
    if (!Number.isFinite(next) || next - now > HORIZON_MS) return { open: false, kind: first.kind, reason: first.reason, opensAt: null };
    at = next;
    current = blocked(windows, freezes, at);
  }
  return { open: false, kind: first.kind, reason: first.reason, opensAt: current === null ? at : null };
}
