// The record of one run of a release train: its members (each with the image it brings, or none),
// where the run is, and what is outstanding. Pure data; `decideTrain` moves it on.

import type { Definition } from '../definition.js';
import type { Effect } from '../effect.js';
import type { CheckResult, Measurement, Verdict } from '../gate.js';
import type { GitOpsState } from '../gitops-state.js';
import type { EffectOutcome, GitOpsReport, Input } from '../input.js';
import type { Actor, AuditEntry, MergeRequestRef, ReleaseWait } from '../release.js';
import { ALL_STABLE, type TrafficState } from '../traffic.js';
import type { TrainDefinition } from './train-definition.js';

export const TRAIN_LIVE_STATES = ['pending', 'deploying', 'opening', 'progressing', 'awaiting-approval', 'promoting', 'rolling-back'] as const;
export const TRAIN_END_STATES = ['succeeded', 'rolled-back', 'aborted', 'failed'] as const;
export type TrainState = (typeof TRAIN_LIVE_STATES)[number] | (typeof TRAIN_END_STATES)[number];

export function isTrainLive(state: TrainState): boolean {
  return (TRAIN_LIVE_STATES as readonly string[]).includes(state);
}

/** One member's last analysis check on lane traffic. */
export interface MemberCheck {
  verdict: Verdict;
  /** Requests the member's canary served in the lane over the window (null: unknown). */
  laneRequests: number | null;
  measurements: Measurement[];
  /** Why it is not a pass, one sentence (e.g. not propagating the tag). */
  message?: string;
}

export interface TrainMember {
  name: string;
  definition: Definition;
  /** The new image; null: the member rides along on its stable version (no canary, no lane route). */
  image: string | null;
  sha: string | null;
  mr: MergeRequestRef | null;
  /** The stable image as pre-flight found it (restored when a rollback begins after promotion touched it). */
  stableImageBefore: string | null;
  canary: 'none' | 'deploying' | 'ready' | 'scaled-down';
  stable: 'before' | 'promoting' | 'promoted' | 'restored';
  /** Traffic confirmed written on the member's route. */
  traffic: TrafficState;
  lastCheck: MemberCheck | null;
  /** spec.gitops: the pins pre-flight read, and the commit (and revert) of the train's write that holds them. */
  gitops?: GitOpsState | null;
}

/**
 * spec.gitops of a train: one write per config repository and branch, holding the pins of every
 * member with a new image there (one commit, or one merge request, for the whole train).
 */
export interface TrainGitOpsWrite {
  /** `<repository>@<branch>`: what the git phases wait on. */
  key: string;
  repository: string | number;
  branch: string;
  /** merge-request when any of its members asks for one. */
  via: 'commit' | 'merge-request';
  /** In the train's order. */
  members: string[];
  /** The promotion's commit (for via: merge-request, the merge commit), once written. */
  commit: { sha: string; url: string } | null;
  mergeRequest: { iid: number; url: string } | null;
  /** The rollback's revert commit, once written. */
  revert: { sha: string; url: string } | null;
  /** A revert refused because a pin no longer holds canarybot's value (a human's change, left alone). */
  revertRefused: string | null;
  /** Rolled back before its merge request merged: the MR was closed unmerged. */
  mergeRequestClosed?: boolean;
  /**
   * via: merge-request — the write was asked for, so GitLab may hold its MR before it is recorded
   * here (a crash or a lost answer in between): a rollback looks for it and closes it.
   */
  mergeRequestAsked?: boolean;
  /**
   * via: commit — the write's commit was asked for, so it may be in Git before it is recorded here
   * (a crash or a lost answer in between): a rollback reads the pins and reverts what landed.
   */
  commitAsked?: boolean;
}

export interface TrainAnalysisProgress {
  passed: number;
  failed: number;
  inconclusive: number;
  checks: number;
}

export interface TrainRun {
  id: string;
  train: TrainDefinition;
  /** In the train's order: the entry first, the leaf last. */
  members: TrainMember[];
  state: TrainState;
  /** Sub-phase; with `waitingOn` it says which effect results are outstanding. */
  phase: string;
  /** Members whose result for the current phase's effect has not come back yet (in the git phases: the keys of the train's GitOps writes). */
  waitingOn: string[];
  stepIndex: number;
  /** The entry's share of requests put into the lane (entry by weight). */
  entryWeight: number;
  analysis: TrainAnalysisProgress | null;
  deadlineAt: number | null;
  wakeKey: string | null;
  /** When the current wait (`wakeKey`) ends; kept so a restarted bot schedules the same tick again. */
  wakeAt: number | null;
  trafficChangedAt: number | null;
  /**
   * What the run is waiting for right now (every canary ready, an approval and by whom, a pause, the
   * lane's analysis, a blocked rollback, Git, a merge request, a controller's sync), in the generic
   * shape of a release's `wait`; set by the core after every decision, null when nothing holds it.
   */
  wait?: ReleaseWait | null;
  /** How the rollback ends. */
  rollbackOutcome: 'rolled-back' | 'aborted' | null;
  reason: string | null;
  /** Transient failures in a row of the current phase (for the backoff). */
  retries: number;
  /** spec.gitops: the train's writes, one per config repository and branch (set when promotion starts). */
  gitops?: TrainGitOpsWrite[];
  audit: AuditEntry[];
  /**
   * Ids of the last inbox messages (alerts and commands handed over by any replica) this record's
   * decisions include; kept by the runner with the decision, so a message is never decided twice.
   */
  inboxHandled?: string[];
  triggeredBy: Actor | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

/** What the train core asks for. Member effects are the release effects, run against that member's target. */
export type TrainEffect =
  | { type: 'member'; member: string; effect: Extract<Effect, { type: 'preflight' | 'ensure-canary' | 'ensure-stable' | 'set-traffic' | 'scale-canary' | 'gitops-sync' }> }
  /**
   * spec.gitops: one write of the train (`write` = its key) — check the pins still hold what pre-flight
   * read (writes nothing), commit (or merge request) every member's pin, or revert; comes back as `gitops-result`.
   */
  | { type: 'gitops'; action: TrainGitOpsAction; write: string }
  /** One check of every member with a canary on lane traffic; comes back as `lane-check`. */
  | { type: 'evaluate-lane'; stepIndex: number; check: number; members: string[] }
  | { type: 'schedule-tick'; at: number; key: string }
  | { type: 'report'; event: TrainEventKind };

export type TrainEventKind =
  | 'started'
  | 'canaries-ready'
  | 'lane-open'
  | 'step-started'
  | 'checked'
  | 'approval-needed'
  | 'promoting'
  | 'committed'
  | 'member-promoted'
  | 'rolling-back'
  | 'succeeded'
  | 'rolled-back'
  | 'aborted'
  | 'failed';

export type MemberEffectResult = Extract<Input, { type: 'effect-result' }>;

export type TrainGitOpsAction = 'check' | 'commit' | 'revert';

export type TrainInput =
  | { type: 'start' }
  /** The bot (re)started with this run live in the store: ask again for whatever is outstanding. */
  | { type: 'recover' }
  | { type: 'tick'; key?: string }
  | { type: 'member-result'; member: string; result: MemberEffectResult }
  | { type: 'gitops-result'; action: TrainGitOpsAction; write: string; result: EffectOutcome & { gitops?: GitOpsReport } }
  | { type: 'lane-check'; stepIndex: number; check: number; members: Array<{ member: string; check: CheckResult; laneRequests: number | null }> }
  /** `refusal`: the actor failed a member's approvals policy; audited, nothing else changes. */
  | { type: 'command'; verb: 'approve' | 'abort' | 'promote'; actor: Actor; reason?: string; refusal?: string }
  | { type: 'alert'; member: string; name: string };

export interface TrainDecision {
  next: TrainRun;
  effects: TrainEffect[];
  reply?: { ok: boolean; message: string };
}

export interface TrainMemberStart {
  image: string | null;
  sha?: string | null;
  mr?: MergeRequestRef | null;
}

/** A fresh run: nothing touched, every member on stable. `starts` by member name; absent = rides along. */
export function createTrainRun(
  train: TrainDefinition,
  definitions: readonly Definition[],
  starts: Readonly<Record<string, TrainMemberStart>>,
  id: string,
  now: number,
  actor: Actor | null,
): TrainRun {
  const members = train.members.map((name): TrainMember => {
    const definition = definitions.find((candidate) => candidate.name === name);
    if (!definition) throw new Error(`train ${train.name}: no definition for member ${name}`);
    const start = starts[name];
    return {
      name,
      definition,
      image: start?.image ?? null,
      sha: start?.sha ?? null,
      mr: start?.mr ?? null,
      stableImageBefore: null,
      canary: 'none',
      stable: 'before',
      traffic: { ...ALL_STABLE, weights: { ...ALL_STABLE.weights } },
      lastCheck: null,
    };
  });
  const bringing = members.filter((member) => member.image !== null).map((member) => `${member.name} ${member.image}`);
  return {
    id,
    train,
    members,
    state: 'pending',
    phase: 'created',
    waitingOn: [],
    stepIndex: -1,
    entryWeight: train.entry.kind === 'weight' ? train.entry.weight : 0,
    analysis: null,
    deadlineAt: null,
    wakeKey: null,
    wakeAt: null,
    trafficChangedAt: null,
    rollbackOutcome: null,
    reason: null,
    retries: 0,
    audit: [{ at: now, actor, action: 'created', stepIndex: null, detail: bringing.join(', ') || 'no new image' }],
    triggeredBy: actor,
    createdAt: now,
    updatedAt: now,
    endedAt: null,
  };
}

/** Why a train cannot start with these images, or null. */
export function trainStartProblem(train: TrainDefinition, starts: Readonly<Record<string, TrainMemberStart>>): string | null {
  const unknown = Object.keys(starts).filter((name) => !train.members.includes(name));
  if (unknown.length > 0) return `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a member' : 'are not members'} of train ${train.name} (members: ${train.members.join(', ')})`;
  if (!train.members.some((name) => starts[name]?.image)) return `no member of train ${train.name} has a new image`;
  if (train.entry.kind === 'weight' && !starts[train.entry.member]?.image) {
    return `train ${train.name} enters by weight at ${train.entry.member}, which needs a new image to send a share of its requests to`;
  }
  return null;
}
