import type { Definition } from './definition.js';
import type { FreezePeriod } from './windows.js';
import type { GitOpsState } from './gitops-state.js';
import type { CheckResult } from './gate.js';
import type { TrafficState, Weights } from './traffic.js';

export const LIVE_STATES = [
  'pending',
  'deploying',
  'progressing',
  'paused',
  'awaiting-approval',
  'promoting',
  'rolling-back',
] as const;
export const TERMINAL_STATES = ['succeeded', 'rolled-back', 'failed', 'superseded', 'aborted'] as const;

export type LiveState = (typeof LIVE_STATES)[number];
export type TerminalState = (typeof TERMINAL_STATES)[number];
export type ReleaseState = LiveState | TerminalState;

export function isLive(state: ReleaseState): state is LiveState {
  return (LIVE_STATES as readonly string[]).includes(state);
}

/** A verified identity: who acted, through which channel. */
export interface Actor {
  /** GitLab username (chat users are mapped to one before they may change anything). */
  username: string;
  /** GitLab user id when known. */
  userId?: number;
  channel: 'gitlab' | 'slack' | 'mattermost' | 'alert' | 'system' | 'api';
  /** Chat user id/name when the command came from chat. */
  chatUser?: string;
}

export interface MergeRequestRef {
  /** GitLab project id the MR belongs to. */
  projectId: number;
  iid: number;
  url?: string;
  authorUsername?: string;
  title?: string;
}

export interface ReleaseTrigger {
  definition: Definition;
  image: string;
  sha: string;
  ref: string;
  pipeline: { id: number; url?: string } | null;
  mr: MergeRequestRef | null;
  actor: Actor | null;
  /** The app project's GitLab deploy freeze periods, read at intake. */
  freezes?: FreezePeriod[];
}

export interface AuditEntry {
  at: number;
  actor: Actor | null;
  action: string;
  stepIndex: number | null;
  detail?: string;
}

export interface GateRecord {
  stepIndex: number;
  check: CheckResult;
}

/** A sample for the progress chart: canary weight and success rate over time. */
export interface TimelinePoint {
  at: number;
  canaryWeight: number;
  successRate: number | null;
}

/** Counters of the analysis step in progress. */
export interface AnalysisProgress {
  passed: number;
  failed: number;
  inconclusive: number;
  consecutiveErrors: number;
  checks: number;
}

export interface Approval {
  releaseId: string;
  stepIndex: number;
  actor: Actor;
  at: number;
}

/**
 * Why a release is not moving, rendered generically (sentence, until, link) by the MR note, chat,
 * the API, the CLI and the dashboard. `kind` names the cause (`rollback-blocked`, `retry`, `sync`,
 * `window`, `hold`, …); only the code that set a kind clears it.
 */
export interface ReleaseWait {
  kind: string;
  sentence: string;
  since: number;
  until?: number | null;
  link?: string | null;
}

export interface PromotedCluster {
  index: number;
  cluster: string;
  /** The stable image before this release (null: unknown, nothing to restore). */
  stableImageBefore: string | null;
  /** spec.gitops: this cluster's write-back (its files, its promotion commit), for its revert when it is rolled back later. */
  gitops?: GitOpsState | null;
}

export interface Release {
  id: string;
  definition: Definition;
  /** = definition.name */
  service: string;
  namespace: string;
  /** The cluster being released now (definition.target.clusters[clusterIndex]). */
  cluster: string;
  clusterIndex: number;
  image: string;
  sha: string;
  ref: string;
  pipeline: { id: number; url?: string } | null;
  mr: MergeRequestRef | null;
  triggeredBy: Actor | null;

  state: ReleaseState;
  /**
   * Sub-phase within a state, so that a re-run after a crash resumes at the right effect
   * (e.g. `rolling-back`: `traffic` then `scale-down`). Free-form, owned by the core.
   */
  phase: string;
  /** Index into the planned steps; -1 before the first step. */
  stepIndex: number;
  stepStartedAt: number;
  /** Progress deadline of the current wait (readiness, rollout), or null. */
  deadlineAt: number | null;
  /**
   * When the current wait ends (settle, timed pause, next analysis check, readiness poll); a tick
   * before it only reschedules. Optional for records written before it existed.
   */
  wakeAt?: number | null;
  /** The schedule-tick key of the current wait; a keyed tick with another key is stale and ignored. */
  wakeKey?: string | null;
  /** Where `/canary resume` returns to after `/canary pause` (null: an untimed pause step, resume moves on). */
  resumeTo?: { state: LiveState; phase: string } | null;
  /**
   * The stable Deployment's image as preflight found it on this cluster, before canarybot changed
   * anything; a rollback that starts once promotion may have set the new image puts it back.
   * Null or absent: unknown (a record written before it existed, or an adapter that cannot tell).
   */
  stableImageBefore?: string | null;
  /**
   * Clusters this release promoted, in order, each with the stable image it ran before; a failure on
   * a later cluster rolls them back newest first (spec.onFailure: rollback), removing each as it goes.
   */
  promotedClusters?: PromotedCluster[];
  /** Set by a rollback that began during promotion: restore `stableImageBefore` before the scale-down. */
  restoreStable?: boolean;
  /** Time of the last traffic change (for settle). */
  trafficChangedAt: number | null;
  weights: Weights;
  traffic: TrafficState;
  analysis: AnalysisProgress | null;
  approvals: Approval[];
  /** State to enter when a rollback completes: rolled-back, aborted or superseded. */
  rollbackOutcome: 'rolled-back' | 'aborted' | 'superseded' | null;
  /** One sentence: why the release failed, was rolled back or aborted, with the figure. */
  reason: string | null;
  gates: GateRecord[];
  audit: AuditEntry[];
  timeline: TimelinePoint[];
  /** Why the release is not moving, when something holds it (see ReleaseWait). */
  wait?: { kind: string; sentence: string; since: number; until?: number | null; link?: string | null } | null;
  /** spec.gitops: pins recorded at pre-flight, the promotion's commit, the rollback's revert. */
  gitops?: GitOpsState | null;
  /** Consecutive transient failures of the effect in flight (its retry backoff's exponent); 0 or absent when none. */
  effectRetries?: number;
  /** GitLab deploy freeze periods of the app project, as last read (the engine refreshes them). */
  freezes?: FreezePeriod[];
  /** `/canary override-freeze <reason>`: freezes and deny windows no longer hold this release. */
  freezeOverride?: { actor: Actor; reason: string; at: number } | null;
  /** Incremented by /canary retry. */
  attempt: number;
  /** Optimistic-concurrency version; the store increments it on every write. */
  version: number;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}
