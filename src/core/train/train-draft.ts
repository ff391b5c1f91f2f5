// The working copy a train decision is built on, and the small helpers every phase uses.

import { backoffDelayMs, jitterUnit } from '../backoff.js';
import type { Actor } from '../release.js';
import type { TrafficState } from '../traffic.js';
import { entryTraffic, laneTraffic, restTraffic } from './train-traffic.js';
import type { TrainDecision, TrainEffect, TrainEventKind, TrainMember, TrainRun } from './train-run.js';

export interface TrainDraft {
  next: TrainRun;
  effects: TrainEffect[];
  now: number;
  reply?: { ok: boolean; message: string };
}

export const POLL_MS = 2000;
const RETRY_BACKOFF = { baseMs: 1000, capMs: 30_000 };

export function draftTrain(run: TrainRun, now: number): TrainDraft {
  return {
    next: { ...run, members: run.members.map((member) => ({ ...member })), waitingOn: [...run.waitingOn], audit: [...run.audit], updatedAt: now, ...(run.gitops ? { gitops: run.gitops.map((write) => ({ ...write })) } : {}) },
    effects: [],
    now,
  };
}

export function finishTrain(d: TrainDraft): TrainDecision {
  return d.reply ? { next: d.next, effects: d.effects, reply: d.reply } : { next: d.next, effects: d.effects };
}

export function unchangedTrain(run: TrainRun, reply?: { ok: boolean; message: string }): TrainDecision {
  return reply ? { next: run, effects: [], reply } : { next: run, effects: [] };
}

export function trainAudit(d: TrainDraft, action: string, detail?: string, actor: Actor | null = null): void {
  const stepIndex = d.next.stepIndex >= 0 ? d.next.stepIndex : null;
  d.next.audit.push(detail === undefined ? { at: d.now, actor, action, stepIndex } : { at: d.now, actor, action, stepIndex, detail });
}

export function report(d: TrainDraft, event: TrainEventKind): void {
  d.effects.push({ type: 'report', event });
}

export function memberOf(run: TrainRun, name: string): TrainMember {
  const member = run.members.find((candidate) => candidate.name === name);
  if (!member) throw new Error(`train ${run.train.name} has no member ${name}`);
  return member;
}

/** Members bringing a new image (a canary); the others ride along on stable. */
export function withCanary(run: TrainRun): TrainMember[] {
  return run.members.filter((member) => member.image !== null);
}

export function entryName(run: TrainRun): string {
  return run.train.entry.member;
}

/** Members behind the entry that get a lane route: those with a canary. */
export function laneMembers(run: TrainRun): string[] {
  return withCanary(run)
    .filter((member) => member.name !== entryName(run))
    .map((member) => member.name);
}

export function settleMs(run: TrainRun): number {
  return Math.max(0, ...run.members.map((member) => member.definition.target.settleMs));
}

export function readinessDeadlineMs(run: TrainRun): number {
  return Math.max(0, ...run.members.map((member) => member.definition.target.readinessDeadlineMs));
}

/** The entry's route with the entry open; a riding entry tags its cohort on stable. */
export function openEntryTraffic(run: TrainRun): TrafficState {
  const traffic = entryTraffic(run.train, run.entryWeight);
  if (memberOf(run, entryName(run)).image !== null || !traffic.lane) return traffic;
  return { ...traffic, lane: { ...traffic.lane, to: 'stable' } };
}

/** The traffic the current phase writes on `member`'s route. */
export function phaseTraffic(run: TrainRun): TrafficState {
  switch (run.phase) {
    case 'lane':
      return laneTraffic(run.train);
    case 'entry':
    case 'weight':
      return openEntryTraffic(run);
    default:
      return restTraffic();
  }
}

function tickKey(run: TrainRun, purpose: string): string {
  return `train_${run.id.replace(/[^A-Za-z0-9_.-]/g, '-')}_s${run.stepIndex}_${purpose}`;
}

/** Wait until `at`, then tick; a tick with another key is stale. */
export function wakeTrainAt(d: TrainDraft, at: number, purpose: string): void {
  const key = tickKey(d.next, purpose);
  d.next.wakeKey = key;
  d.next.wakeAt = at;
  d.effects.push({ type: 'schedule-tick', at, key });
}

/** A transient failure: the same phase again after a capped full-jitter backoff. */
export function retryLater(d: TrainDraft, what: string): void {
  const r = d.next;
  r.retries += 1;
  trainAudit(d, 'retry', what);
  const delay = backoffDelayMs(r.retries, RETRY_BACKOFF, () => jitterUnit(`${r.id}:${r.phase}:${r.retries}`));
  wakeTrainAt(d, d.now + delay, `retry-${r.retries}`);
}
