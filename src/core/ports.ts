// The ports through which the engine's effect executor reaches the world. The core only knows these
// types; adapters (src/mesh, src/gates, src/gitlab, src/chatops) implement them, and the engine's
// tests use the in-memory fakes in test/support/fakes.ts.

import type { AnalysisSpec, MetricCheck, Step, TargetSpec } from './definition.js';
import type { ReleaseEventKind } from './effect.js';
import type { GitOpsReport } from './input.js';
import type { CheckResult } from './gate.js';
import type { Release } from './release.js';
import type { TrafficState } from './traffic.js';

/** Where a release acts: one cluster of the definition's target. */
export interface ReleaseTarget extends TargetSpec {
  cluster: string;
  service: string;
  /** GitLab project of the definition (for tenant checks). */
  project: string | number;
}

export function releaseTarget(release: Release): ReleaseTarget {
  return {
    ...release.definition.target,
    cluster: release.cluster,
    service: release.service,
    project: release.definition.trigger.project,
  };
}

export type RolloutStatus =
  | { state: 'ready' }
  | { state: 'progressing'; message: string }
  | { state: 'failed'; message: string };

/** Errors: throw CanarybotError (src/core/errors.ts); transient codes are retried by the executor. */
export interface TrafficRouter {
  /** Throws CanarybotError PREFLIGHT_FAILED / TENANT_REFUSED with an actionable message on mismatch. */
  preflight(target: ReleaseTarget): Promise<void>;
  /** Write the traffic state to the managed route; no write when nothing changes. */
  setTraffic(target: ReleaseTarget, traffic: TrafficState): Promise<void>;
}

export interface WorkloadController {
  /** Set the canary's image and replicas (default: stable's spec.replicas); report rollout status. */
  ensureCanary(target: ReleaseTarget, image: string, replicas?: number): Promise<RolloutStatus>;
  /** Set the stable Deployment's image; report rollout status. */
  ensureStable(target: ReleaseTarget, image: string): Promise<RolloutStatus>;
  scaleCanary(target: ReleaseTarget, replicas: number): Promise<void>;
  /**
   * The image of the stable Deployment's container as it is now (read at preflight, before anything
   * changes, so a rollback during promotion can restore it). Optional, and null means unknown:
   * then that rollback leaves the stable image as it is.
   */
  currentStableImage?(target: ReleaseTarget): Promise<string | null>;
}

/** A Kubernetes Event about what canarybot just did (`kubectl describe` and Argo CD's UI show them). */
export interface ClusterEvent {
  /** Short CamelCase reason: TrafficShifted, Promoted, RolledBack, CanaryDeployed, ScaledDown. */
  reason: string;
  note: string;
  type: 'Normal' | 'Warning';
  /** The objects it is about: the managed VirtualService and/or the Deployment that changed. */
  regarding: ('virtual-service' | 'stable' | 'canary')[];
}

/** Writes Events. A failure never reaches the release: the executor logs it and drops it. */
export interface ClusterEventRecorder {
  record(target: ReleaseTarget, event: ClusterEvent): Promise<void>;
}

/** The answer of a GitOps write or wait: done, or not yet (with what is awaited). */
export interface GitOpsAnswer {
  done: boolean;
  report: GitOpsReport;
  /** Not done: one line on what is awaited. */
  message?: string;
}

/**
 * spec.gitops (issue 14): the config repository and its controller. Throws CanarybotError:
 * PREFLIGHT_FAILED / GITOPS_DRIFT / GITOPS_REFUSED (terminal) or GITLAB_UNAVAILABLE / K8S_UNAVAILABLE (transient).
 */
export interface GitOpsPort {
  /** Reads every pinned file at the branch head (and the controller's object) against the stable image; never writes. */
  preflight(release: Release, stableImage: string | null): Promise<GitOpsReport>;
  /** Writes the release's image into Git (one commit, or a merge request that must be merged); idempotent. */
  promote(release: Release): Promise<GitOpsAnswer>;
  /**
   * One revert commit back to the pre-flight values; `report.refused` when a human changed a value since.
   * A merge request not merged yet is closed instead (`closedMergeRequest`; idempotent); one that merged
   * meanwhile is reverted as a commit (`mergedBeforeClose`).
   */
  revert(release: Release): Promise<GitOpsReport>;
  /** Asks the controller to apply `revision` and reports whether it has, with `image` on the stable Deployment. */
  sync(release: Release, revision: string, image: string): Promise<GitOpsAnswer>;
  /** A release train's write: every pin still holds what pre-flight read (or the train's own value); writes nothing. */
  checkTrain(write: TrainGitOpsRequest): Promise<void>;
  /** One commit (or one merge request) of every member's pins in the write's repository and branch; idempotent. */
  promoteTrain(write: TrainGitOpsRequest): Promise<GitOpsAnswer>;
  /**
   * One revert commit of the write back to the pre-flight values; `refused` when a human changed a
   * value since. A write whose merge request is not merged yet: the MR is closed instead (`closedMergeRequest`).
   */
  revertTrain(write: TrainGitOpsRequest): Promise<GitOpsReport>;
}

/** The members of a release train that share one config repository and branch, written together. */
export interface TrainGitOpsRequest {
  runId: string;
  train: string;
  repository: string | number;
  branch: string;
  via: 'commit' | 'merge-request';
  /** Each member as a release, with the pins its pre-flight recorded (`release.gitops`). */
  members: Release[];
  /** The write's merge request, once opened. */
  mergeRequest: { iid: number; url: string } | null;
  /** The write's commit (for via: merge-request, the merge commit), once known. */
  commit: { sha: string; url: string } | null;
}

export interface GateEvaluator {
  /** One check: every metric over the window plus every alert source. Never throws for an outage: returns `error` measurements. */
  evaluate(release: Release, analysis: AnalysisSpec, metrics: MetricCheck[]): Promise<CheckResult>;
  callWebhook(release: Release, step: Extract<Step, { kind: 'webhook' }>): Promise<CheckResult>;
}

/** GitLab write-back. Must never throw into the release: queue, retry and coalesce internally. */
export interface Reporter {
  report(release: Release, event: ReleaseEventKind): Promise<void>;
}

/** Chat notifications. Must never throw into the release. */
export interface Notifier {
  notify(release: Release, event: ReleaseEventKind): Promise<void>;
}

export interface Clock {
  now(): number;
}

export interface Ports {
  router: TrafficRouter;
  workloads: WorkloadController;
  gates: GateEvaluator;
  reporter: Reporter;
  notifier: Notifier;
  replier: CommandReplier;
  clock: Clock;
  /** Kubernetes Events on the objects canarybot changes (optional: none are written without it). */
  events?: ClusterEventRecorder;
  /** spec.gitops (optional: a definition with gitops fails its pre-flight without it). */
  gitops?: GitOpsPort;
}

/** Where the outcome of a command goes back to: the MR thread it came from, the chat response URL, or the HTTP request waiting for it. */
export type ReplyTarget =
  | { channel: 'gitlab'; projectId: number; mrIid: number; noteId: number; discussionId?: string }
  | { channel: 'slack' | 'mattermost'; responseUrl: string }
  | { channel: 'api'; requestId: string };

export interface CommandOutcome {
  ok: boolean;
  /** One or two sentences for a human; names the rule when refused. */
  message: string;
  releaseId?: string;
}

/** Answers commands where they were given. Must never throw into the release. */
export interface CommandReplier {
  reply(target: ReplyTarget, outcome: CommandOutcome): Promise<void>;
}
