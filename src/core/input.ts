import type { ActingVerb } from './command.js';
import type { CheckResult } from './gate.js';
import type { GitOpsPinRecord } from './gitops-state.js';
import type { Actor } from './release.js';
import type { FreezePeriod } from './windows.js';

/** Outcome of an effect that reports back (readiness, rollout, preflight). */
export type EffectOutcome =
  | { outcome: 'ok' }
  /** Not finished yet (rollout still progressing); the core decides when to look again. */
  | { outcome: 'progressing'; message?: string }
  | { outcome: 'transient'; code: string; message: string }
  | { outcome: 'terminal'; code: string; message: string };

export type Input =
  /** Begin a freshly created release. */
  | { type: 'start' }
  /** A scheduled tick is due (pause over, next analysis check, poll readiness, settle over). */
  | {
      type: 'tick';
      /** The `schedule-tick` key this tick was scheduled under; absent for recovery ticks (which re-drive). */
      key?: string;
    }
  | ({
      type: 'effect-result';
      effect: 'preflight' | 'ensure-canary' | 'ensure-stable' | 'set-traffic' | 'scale-canary' | 'gitops-commit' | 'gitops-revert' | 'gitops-sync';
      /** Preflight only: the image the stable Deployment's container runs now (absent when unknown). */
      stableImage?: string;
      /** spec.gitops: what pre-flight found in Git, or the commit / merge request / sync written or awaited. */
      gitops?: GitOpsReport;
    } & EffectOutcome)
  | { type: 'gate-result'; stepIndex: number; check: CheckResult }
  | {
      type: 'command';
      verb: ActingVerb;
      actor: Actor;
      /** The release this command was addressed to when it was given. */
      releaseId: string;
      /** The step the release was on when the command was given (approvals bind to it). */
      stepIndex: number;
      /**
       * When the person wrote the command (MR comment `created_at`, chat/API time of receipt), epoch
       * ms: an approval counts only for an approval asked for before it. Absent: not checked.
       */
      writtenAt?: number;
      reason?: string;
      /**
       * Set when the intake refused the command (approvals policy): the core only records the
       * refusal in the audit and replies with this sentence; nothing else changes.
       */
      refusal?: string;
      /**
       * Retry only: a concurrency limit (maxConcurrentReleases) applies to the release's namespace or
       * tenant, so the retry goes through admission like a new release: it waits in phase `queued`.
       */
      limited?: boolean;
    }
  | { type: 'alert'; name: string; labels: Record<string, string>; startsAt: string; fingerprint: string }
  | { type: 'superseded'; byReleaseId: string; image: string }
  /** The app project's GitLab deploy freeze periods as re-read now (a freeze added or lifted mid-release). */
  | { type: 'freezes'; freezes: FreezePeriod[] }
  /** Concurrency limits: the release waits in the queue (phase `queued`) for what the sentence names. */
  | { type: 'queued'; sentence: string; blockers: string[] };

/** What a GitOps effect reports back (only the fields that apply). */
export interface GitOpsReport {
  /** Pre-flight: the branch written to (the project's default when spec.gitops.branch is absent). */
  branch?: string;
  /** Pre-flight: every pinned value with the value it gets at promotion. */
  pins?: GitOpsPinRecord[];
  /** Pre-flight with onDrift: warn — the drift found, one sentence each. */
  warnings?: string[];
  /** The commit written (or found already written). */
  commit?: { sha: string; url: string };
  /** via: merge-request — the MR. */
  mergeRequest?: { iid: number; url: string };
  /** What is being waited for, with a link (MR, Application), while progressing. */
  waiting?: { kind: 'merge-request' | 'sync'; sentence: string; link: string | null };
  /** A revert that was refused because a human changed the value after canarybot's commit. */
  refused?: string;
  /** A rollback before the merge: the promotion's merge request, closed unmerged (nothing to revert). */
  closedMergeRequest?: { iid: number; url: string };
  /** A rollback found the promotion's merge request merged before it could close it: its merge commit (`commit` is the revert). */
  mergedBeforeClose?: { sha: string; url: string };
  /**
   * A rollback found nothing of the promotion's to undo, and wrote nothing: via: merge-request with
   * nothing recorded, no MR open or merged; a commit (recorded or not), no pin holding canarybot's value.
   */
  nothingToRevert?: boolean;
}
