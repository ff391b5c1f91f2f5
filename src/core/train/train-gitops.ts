// spec.gitops in a release train (issue 19 item 4, as issue 14 does it for one release). Pre-flight
// records each member's pins. Promotion writes Git first: the members with a new image that share a
// config repository and branch get ONE write (a commit, or a merge request) holding all their pins —
// phase `git-check` re-reads every write's pins and refuses the whole train before anything is
// written when one no longer holds what pre-flight read; phase `git` writes. Then, member by member
// in promotion order, a member with `sync` waits for its controller to apply the write (canarybot
// never sets that stable image) and one without sets the stable image as before. A rollback after
// a write landed puts traffic on stable, then writes one revert per repository (`git-revert`, never
// over a human's later value), then waits for the controllers (or restores the image itself).
// Pure helpers; the phases call them.

import type { GitOpsReport } from '../input.js';
import type { TrainDraft } from './train-draft.js';
import { memberOf, trainAudit } from './train-draft.js';
import type { TrainEffect, TrainGitOpsWrite, TrainMember, TrainRun } from './train-run.js';

export const GIT_PHASES = ['git-check', 'git', 'git-revert'] as const;

export function isGitPhase(phase: string): boolean {
  return (GIT_PHASES as readonly string[]).includes(phase);
}

function short(sha: string): string {
  return sha.slice(0, 8);
}

/** Pre-flight of a member with spec.gitops passed: what Git holds now, and what promotion will write. */
export function recordMemberGitOps(d: TrainDraft, name: string, report: GitOpsReport | undefined): void {
  const member = memberOf(d.next, name);
  const spec = member.definition.gitops;
  if (!spec) return;
  const pins = report?.pins ?? [];
  const warnings = report?.warnings ?? [];
  member.gitops = { repository: spec.repository, branch: report?.branch ?? spec.branch ?? '', pins, warnings, commit: null, mergeRequest: null, revert: null, revertRefused: null, sync: null };
  trainAudit(d, 'gitops-preflight', `${name}: ${pins.map((pin) => `${pin.path} ${pin.where} = ${pin.before}`).join('; ')}`);
  for (const warning of warnings) trainAudit(d, 'gitops-drift', `${name}: ${warning} (onDrift: warn, carrying on)`);
}

/** The train's writes: one per config repository and branch of the members with a new image and spec.gitops. */
export function planWrites(run: TrainRun): TrainGitOpsWrite[] {
  const writes: TrainGitOpsWrite[] = [];
  for (const member of run.members) {
    const spec = member.definition.gitops;
    if (member.image === null || !spec || !member.gitops) continue;
    const key = `${String(spec.repository)}@${member.gitops.branch}`;
    let write = writes.find((candidate) => candidate.key === key);
    if (!write) {
      write = { key, repository: spec.repository, branch: member.gitops.branch, via: 'commit', members: [], commit: null, mergeRequest: null, revert: null, revertRefused: null };
      writes.push(write);
    }
    write.members.push(member.name);
    if (spec.via === 'merge-request') write.via = 'merge-request';
  }
  return writes;
}

export function writeOf(run: TrainRun, key: string): TrainGitOpsWrite {
  const write = (run.gitops ?? []).find((candidate) => candidate.key === key);
  if (!write) throw new Error(`train ${run.train.name} has no GitOps write ${key}`);
  return write;
}

/** The write holding a member's pins, if any. */
export function memberWrite(run: TrainRun, name: string): TrainGitOpsWrite | null {
  return (run.gitops ?? []).find((write) => write.members.includes(name)) ?? null;
}

/** Writes whose commit landed (or may have, unrecorded; or whose merge request may still merge, recorded or not) and are not reverted (or refused) yet. */
export function writesToRevert(run: TrainRun): string[] {
  return (run.gitops ?? []).filter((write) => (write.commit !== null || write.mergeRequest !== null || write.mergeRequestAsked === true || write.commitAsked === true) && write.revert === null && write.revertRefused === null && !write.mergeRequestClosed).map((write) => write.key);
}

/** How long the git phases may take: a merge request waits up to its members' merge timeout. */
export function gitDeadlineMs(run: TrainRun): number {
  const members = run.members.filter((member) => memberWrite(run, member.name)?.via === 'merge-request');
  return Math.max(0, ...members.map((member) => member.definition.gitops?.mergeTimeoutMs ?? 0));
}

/** How long promotion's stable phases may take once Git holds the train: the controllers' sync timeouts too. */
export function syncDeadlineMs(run: TrainRun): number {
  return Math.max(0, ...run.members.map((member) => member.definition.gitops?.sync?.timeoutMs ?? 0));
}

/**
 * What puts a member's stable Deployment on `image` in the stable (promotion) or restore (rollback)
 * phase: with a controller and the member's write (or revert) in Git, waiting for the controller to
 * apply it; otherwise canarybot's own write.
 */
export function stableEffect(run: TrainRun, member: TrainMember, image: string): Extract<TrainEffect, { type: 'member' }>['effect'] {
  const write = memberWrite(run, member.name);
  const revision = run.phase === 'restore' ? write?.revert?.sha : write?.commit?.sha;
  if (member.definition.gitops?.sync && revision) return { type: 'gitops-sync', revision, image };
  return { type: 'ensure-stable', image };
}

/**
 * Members whose stable Deployment a rollback puts back: those a promotion changed without GitOps,
 * those whose write was reverted (with a controller, each waits for it to apply the revert).
 * A member whose write never landed was never touched; one whose revert was refused keeps what Git holds.
 */
export function membersToRestore(run: TrainRun): string[] {
  return run.members
    .filter((member) => {
      if (member.stableImageBefore === null) return false;
      const write = memberWrite(run, member.name);
      if (!member.definition.gitops || !write) return member.stable !== 'before';
      if (write.revert === null) return false;
      return member.definition.gitops.sync !== undefined || member.stable !== 'before';
    })
    .map((member) => member.name);
}

/** A rollback whose Git revert was refused ends failed and says why. */
export function gitRevertRefused(run: TrainRun): string | null {
  const refused = (run.gitops ?? []).filter((write) => write.revertRefused !== null).map((write) => `${write.key}: ${write.revertRefused}`);
  return refused.length > 0 ? refused.join('; ') : null;
}

/** Copies a write's commit (and MR / revert) onto its members, so each member's note shows it. */
export function shareWrite(d: TrainDraft, write: TrainGitOpsWrite): void {
  for (const name of write.members) {
    const member = memberOf(d.next, name);
    if (member.gitops) member.gitops = { ...member.gitops, commit: write.commit, mergeRequest: write.mergeRequest, revert: write.revert, revertRefused: write.revertRefused };
  }
}

/** `productpage 1.2 → 1.3; reviews …`: a write's pins, for the audit. */
export function describeWrite(run: TrainRun, write: TrainGitOpsWrite, direction: 'promote' | 'revert'): string {
  const sha = direction === 'promote' ? write.commit?.sha : write.revert?.sha;
  const pins = write.members.flatMap((name) =>
    (memberOf(run, name).gitops?.pins ?? []).map((pin) => `${name} ${pin.path}: ${direction === 'promote' ? `${pin.before} → ${pin.after}` : `${pin.after} → ${pin.before}`}`),
  );
  return `${write.key} ${sha ? short(sha) : '?'} ${pins.join('; ')}`;
}
