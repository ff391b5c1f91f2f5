// What a release knows about its GitOps write-back (spec.gitops): the pinned values recorded at
// pre-flight, the commit (or merge request) that promoted, the revert that rolled back.

export interface GitOpsPinRecord {
  path: string;
  /** How the pin is described in notes: `image.tag`, `images[name=…].newTag`, `Deployment x container y`. */
  where: string;
  /** The value in Git at pre-flight (tag, or the whole image for a manifest). */
  before: string;
  /** The value promotion writes. */
  after: string;
}

export interface GitOpsState {
  repository: string | number;
  branch: string;
  pins: GitOpsPinRecord[];
  warnings: string[];
  /** The promotion's commit (for via: merge-request, the merge commit), once written. */
  commit: { sha: string; url: string } | null;
  mergeRequest: { iid: number; url: string } | null;
  /** Rolled back before the merge request merged: the MR was closed unmerged (nothing to revert). */
  mergeRequestClosed?: boolean;
  /**
   * via: merge-request — the promotion's Git write was asked for, so GitLab may hold its MR before
   * it is recorded here (a crash or a lost answer in between): a rollback looks for it and closes it.
   */
  mergeRequestAsked?: boolean;
  /**
   * via: commit — the promotion's commit was asked for, so it may be in Git before it is recorded
   * here (a crash or a lost answer in between): a rollback reads the pins and reverts what landed.
   */
  commitAsked?: boolean;
  /** The rollback's revert commit, once written. */
  revert: { sha: string; url: string } | null;
  /** A revert refused because the file no longer holds canarybot's value: the release fails loudly. */
  revertRefused: string | null;
  /** The controller's last reported state while waiting for it. */
  sync: string | null;
}
