// Hold instead of rollback (`onFailure: hold`, `alerts[].onFire: hold`): a failed gate or a firing
// alert keeps the traffic where it is and waits for a human — `/canary abort` rolls back,
// `/canary resume` goes on past the failed step — until `holdTimeoutMs` (default 1 h), when the
// forgotten hold ends in a rollback. The release is `paused` in phase `held`, with the generic `wait`.

import type { AlertSourceSpec, Definition } from '../definition.js';
import { matchesAll } from '../label-matchers.js';
import { formatDuration } from './describe.js';
import type { Draft } from './draft.js';
import { announce, audit, wakeAt } from './draft.js';
import { startRollback } from './rollback.js';

import { HELD_PHASE, HOLD_WAIT } from './hold-wait.js';

export { HELD_PHASE, HOLD_WAIT, isHeld } from './hold-wait.js';
export const DEFAULT_HOLD_TIMEOUT_MS = 3_600_000;

export function holdTimeoutMs(definition: Definition): number {
  return definition.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS;
}

/** A failed gate holds when the definition says so. */
export function gateFailureHolds(definition: Definition): boolean {
  return definition.onFailure === 'hold';
}

/** A firing alert holds when every alert source it matches says `onFire: hold`. */
export function alertHolds(sources: readonly AlertSourceSpec[], labels: Readonly<Record<string, string>>): boolean {
  const matching = sources.filter((source) => matchesAll(source.matchers, labels));
  return matching.length > 0 && matching.every((source) => source.onFire === 'hold');
}

/** Alerts polled during an analysis (measurements `alert:*`) hold only when every alert source holds. */
export function polledAlertsHold(definition: Definition): boolean {
  return definition.alerts.length > 0 && definition.alerts.every((source) => source.onFire === 'hold');
}

/** Fail the release the way the definition asks: hold the traffic, or roll back. */
export function failOrHold(d: Draft, hold: boolean, reason: string): void {
  if (hold && d.next.state !== 'pending') startHold(d, reason);
  else startRollback(d, 'rolled-back', reason);
}

export function startHold(d: Draft, reason: string): void {
  const r = d.next;
  const until = d.now + holdTimeoutMs(r.definition);
  const where = r.stepIndex >= 0 ? `step ${r.stepIndex + 1}` : r.state;
  r.state = 'paused';
  r.phase = HELD_PHASE;
  r.resumeTo = null;
  r.deadlineAt = null;
  r.reason = reason;
  r.wait = {
    kind: HOLD_WAIT,
    sentence: `HELD at ${where} with the canary at ${r.weights.canary} % instead of rolling back: ${reason}. ` +
      `\`/canary abort\` rolls back, \`/canary resume\` goes on; with no decision it rolls back after ${formatDuration(holdTimeoutMs(r.definition))}.`,
    since: d.now,
    until,
    link: null,
  };
  audit(d, 'held', `${reason}; traffic stays at stable ${r.weights.stable} / canary ${r.weights.canary} until a decision or ${new Date(until).toISOString()}`);
  wakeAt(d, until, 'hold-timeout');
  announce(d, 'held');
}

/** The hold is over (resume, abort, rollback): its wait and reason go. */
export function endHold(d: Draft): void {
  const r = d.next;
  if (r.wait?.kind === HOLD_WAIT) r.wait = null;
}

/** The hold's deadline passed with no decision: roll back. */
export function holdTimedOut(d: Draft): void {
  const r = d.next;
  const why = `held ${formatDuration(holdTimeoutMs(r.definition))} with no /canary abort or /canary resume, rolled back: ${r.reason ?? 'a gate failed'}`;
  endHold(d);
  audit(d, 'hold-timeout', why);
  startRollback(d, 'rolled-back', why);
}
