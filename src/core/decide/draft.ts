// The working copy a decision is built on. `next` is a shallow copy whose arrays are copied too, so
// pushing audit entries or replacing fields never touches the input release. Nested objects
// (weights, traffic, analysis) are replaced, never mutated.

import type { Effect, ReleaseEventKind } from '../effect.js';
import type { Actor, Release } from '../release.js';
import type { TrafficState } from '../traffic.js';

export interface Reply {
  ok: boolean;
  message: string;
}

export interface Decision {
  next: Release;
  effects: Effect[];
  /** For command inputs: the outcome to tell the human. */
  reply?: Reply;
}

export interface Draft {
  next: Release;
  effects: Effect[];
  now: number;
  reply?: Reply;
}

export function draft(release: Release, now: number): Draft {
  return {
    next: {
      ...release,
      approvals: [...release.approvals],
      gates: [...release.gates],
      audit: [...release.audit],
      timeline: [...release.timeline],
      updatedAt: now,
    },
    effects: [],
    now,
  };
}

export function finish(d: Draft): Decision {
  return d.reply ? { next: d.next, effects: d.effects, reply: d.reply } : { next: d.next, effects: d.effects };
}

/** Nothing to do: the same record back (no write needed), no effects. */
export function unchanged(release: Release, reply?: Reply): Decision {
  return reply ? { next: release, effects: [], reply } : { next: release, effects: [] };
}

export function refuse(release: Release, message: string): Decision {
  return unchanged(release, { ok: false, message });
}

export function audit(d: Draft, action: string, detail?: string, actor: Actor | null = null): void {
  const stepIndex = d.next.stepIndex >= 0 ? d.next.stepIndex : null;
  d.next.audit.push(detail === undefined ? { at: d.now, actor, action, stepIndex } : { at: d.now, actor, action, stepIndex, detail });
}

export function emit(d: Draft, ...effects: Effect[]): void {
  d.effects.push(...effects);
}

export function announce(d: Draft, event: ReleaseEventKind, notify = true): void {
  d.effects.push({ type: 'report', event });
  if (notify) d.effects.push({ type: 'notify', event });
}

export function copyTraffic(traffic: TrafficState): TrafficState {
  return { ...traffic, weights: { ...traffic.weights } };
}

/** Records the traffic being written and asks for the write. */
export function writeTraffic(d: Draft, traffic: TrafficState): void {
  d.next.traffic = copyTraffic(traffic);
  d.next.weights = { ...traffic.weights };
  d.effects.push({ type: 'set-traffic', traffic: copyTraffic(traffic) });
}

/** Job-id-safe tick key, unique per release, attempt, cluster, step and purpose. */
export function tickKey(release: Release, purpose: string): string {
  const id = release.id.replace(/[^A-Za-z0-9_.-]/g, '-');
  return `${id}_a${release.attempt}_c${release.clusterIndex}_s${release.stepIndex}_${purpose}`;
}

/** Wait until `at`, then tick. The key collapses duplicates of the same wait. */
export function wakeAt(d: Draft, at: number, purpose: string, keySuffix = ''): void {
  const key = tickKey(d.next, purpose) + keySuffix;
  d.next.wakeAt = at;
  d.next.wakeKey = key;
  d.effects.push({ type: 'schedule-tick', at, key });
}

export function timelinePoint(d: Draft, successRate: number | null): void {
  d.next.timeline.push({ at: d.now, canaryWeight: d.next.weights.canary, successRate });
}

export function sameTraffic(a: TrafficState, b: TrafficState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
