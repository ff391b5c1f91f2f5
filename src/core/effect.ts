import type { AnalysisSpec, MetricCheck, Step } from './definition.js';
import type { TrafficState } from './traffic.js';

/** What happened to a release, for the GitLab write-back and chat notifications. */
export type ReleaseEventKind =
  | 'started'
  | 'step-started'
  | 'progress'
  | 'approval-needed'
  | 'approved'
  | 'paused'
  | 'resumed'
  | 'gate-failed'
  | 'rolling-back'
  | 'rolled-back'
  | 'aborted'
  | 'superseded'
  | 'failed'
  | 'promoting'
  | 'promoted'
  /** A failed gate or a firing alert held the traffic where it is (`onFailure: hold`); approvers are asked. */
  | 'held'
  /** The release stands still for a reason its `wait` gives (a blocked rollback, a retry, a hold). */
  | 'waiting';

/** The effects the core asks for. Each is idempotent: executing it twice is the same as once. */
export type Effect =
  /** Check that the VirtualService, route, subsets and Deployments exist and match; result comes back as an input. */
  | { type: 'preflight' }
  /** Set the canary Deployment's image, scale it up, report ready / progressing / failed. */
  | { type: 'ensure-canary'; image: string; replicas?: number }
  /** Set the stable Deployment's image, report ready / progressing / failed. */
  | { type: 'ensure-stable'; image: string }
  | { type: 'set-traffic'; traffic: TrafficState }
  | { type: 'scale-canary'; replicas: number }
  /** spec.gitops: write the release's image into the config repository (one commit, or a merge request); idempotent. */
  | { type: 'gitops-commit' }
  /** spec.gitops: one revert commit putting every pinned value back to what pre-flight recorded; idempotent. */
  | { type: 'gitops-revert' }
  /** spec.gitops.sync: ask the controller to apply `revision` and report whether it has (ok) or not yet (progressing). */
  | { type: 'gitops-sync'; revision: string; image: string }
  /** Run one check of an analysis step (metrics + alert sources); result comes back as `gate-result`. */
  | { type: 'evaluate-gates'; stepIndex: number; check: number; analysis: AnalysisSpec; metrics: MetricCheck[] }
  /** Call a webhook gate; result comes back as `gate-result`. */
  | { type: 'call-webhook'; stepIndex: number; step: Extract<Step, { kind: 'webhook' }> }
  /** Run a `tick` for this release at `at` (epoch ms). `key` makes duplicates collapse. */
  | { type: 'schedule-tick'; at: number; key: string }
  /** Write the release back to GitLab (progress note, commit status, deployment). */
  | { type: 'report'; event: ReleaseEventKind }
  /** Tell the chat channels. */
  | { type: 'notify'; event: ReleaseEventKind };

export type EffectType = Effect['type'];
