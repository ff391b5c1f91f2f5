// Inputs that stop a release from outside: a firing alert, a newer image for the same service.

import type { Input } from '../input.js';
import type { Release } from '../release.js';
import { isLive } from '../release.js';
import { stepLocation } from './describe.js';
import type { Decision } from './draft.js';
import { audit, draft, finish, unchanged } from './draft.js';
import { alertHolds, failOrHold, isHeld } from './hold.js';
import { startRollback } from './rollback.js';
import { planSteps } from '../plan.js';

type Alert = Extract<Input, { type: 'alert' }>;
type Superseded = Extract<Input, { type: 'superseded' }>;

function where(release: Release): string {
  return release.stepIndex >= 0 ? ` at ${stepLocation(planSteps(release.definition), release.stepIndex)}` : ` while ${release.state}`;
}

function labelSummary(labels: Record<string, string>): string {
  const shown = Object.keys(labels)
    .filter((name) => name !== 'alertname')
    .sort()
    .slice(0, 4)
    .map((name) => `${name}=${labels[name]}`);
  return shown.length > 0 ? ` (${shown.join(', ')})` : '';
}

export function onAlert(release: Release, input: Alert, now: number): Decision {
  if (!isLive(release.state) || release.state === 'rolling-back') return unchanged(release);
  const hold = alertHolds(release.definition.alerts, input.labels);
  // Already held: an alert that would hold too changes nothing but the audit.
  if (hold && isHeld(release)) {
    const d = draft(release, now);
    audit(d, 'alert', `${input.name} ${input.fingerprint} since ${input.startsAt} (already held)`, { username: 'alert', channel: 'alert' });
    return finish(d);
  }
  const d = draft(release, now);
  const reason = `alert ${input.name} fired${labelSummary(input.labels)}${where(release)}`;
  audit(d, 'alert', `${input.name} ${input.fingerprint} since ${input.startsAt}`, { username: 'alert', channel: 'alert' });
  failOrHold(d, hold, reason);
  return finish(d);
}

export function onSuperseded(release: Release, input: Superseded, now: number): Decision {
  if (!isLive(release.state) || release.state === 'rolling-back') return unchanged(release);
  const d = draft(release, now);
  startRollback(d, 'superseded', `superseded by release ${input.byReleaseId} (${input.image})${where(release)}`);
  return finish(d);
}
