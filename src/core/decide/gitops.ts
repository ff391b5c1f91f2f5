// spec.gitops in the release's life (issue 14). Promotion writes Git first: phase `git` commits (or
// waits for the merge request), then with sync phase `sync` waits for the controller to apply the
// commit — canarybot never sets the stable image itself then — and without sync the stable image is
// set as before. A rollback that starts after the commit puts traffic on stable, then writes one
// revert commit (`git-revert`), then waits for the controller (`revert-sync`) or restores the stable
// image itself; a value a human changed after canarybot's commit is left alone and the release fails.

import type { GitOpsReport, Input } from '../input.js';
import type { Release } from '../release.js';
import { formatDuration } from './describe.js';
import type { Draft } from './draft.js';
import { announce, audit, emit, wakeAt } from './draft.js';
import { failureText } from './effect-retry.js';
import { POLL_MS, promotionStableReady } from './promote.js';
import { rollbackSettle, startRollback } from './rollback.js';

type EffectResult = Extract<Input, { type: 'effect-result' }>;

/** How often a merge request is looked at while the release waits for it. */
export const MERGE_POLL_MS = 5000;

export function usesGitOps(release: Release): boolean {
  return release.definition.gitops !== undefined;
}

function short(sha: string): string {
  return sha.slice(0, 8);
}

/** Pre-flight passed: what Git holds now, and what promotion will write. */
export function recordGitOpsPreflight(d: Draft, report: GitOpsReport | undefined): void {
  const r = d.next;
  const spec = r.definition.gitops;
  if (!spec) return;
  const pins = report?.pins ?? [];
  const warnings = report?.warnings ?? [];
  r.gitops = { repository: spec.repository, branch: report?.branch ?? spec.branch ?? '', pins, warnings, commit: null, mergeRequest: null, revert: null, revertRefused: null, sync: null };
  audit(d, 'gitops-preflight', pins.map((pin) => `${pin.path} ${pin.where} = ${pin.before}`).join('; '));
  for (const warning of warnings) audit(d, 'gitops-drift', `${warning} (onDrift: warn, carrying on)`);
}

function setWait(d: Draft, waiting: NonNullable<GitOpsReport['waiting']>, until: number | null): void {
  const r = d.next;
  const first = r.wait?.kind !== waiting.kind;
  r.wait = { kind: waiting.kind, sentence: waiting.sentence, since: first ? d.now : (r.wait?.since ?? d.now), until, link: waiting.link };
  if (first) {
    audit(d, `waiting-${waiting.kind}`, waiting.sentence);
    announce(d, 'waiting', false);
  }
}

function clearWait(d: Draft, kind: string): void {
  if (d.next.wait?.kind === kind) d.next.wait = null;
}

// ---- promotion ------------------------------------------------------------------------------

export function startGitPromotion(d: Draft): void {
  const r = d.next;
  r.phase = 'git';
  r.deadlineAt = d.now + (r.definition.gitops?.mergeTimeoutMs ?? r.definition.target.readinessDeadlineMs);
  askGitPromotion(d);
}

/** Asks (again) for the promotion's Git write, marked first: from here Git may hold it before the release records it. */
export function askGitPromotion(d: Draft): void {
  const r = d.next;
  if (r.gitops && r.definition.gitops?.via === 'merge-request') r.gitops.mergeRequestAsked = true;
  else if (r.gitops) r.gitops.commitAsked = true;
  emit(d, { type: 'gitops-commit' });
}

/** Waits for the controller to apply `revision` (promotion: `sync`; rollback: `revert-sync`). */
function startSync(d: Draft, revision: string, image: string, phase: 'sync' | 'revert-sync'): void {
  const r = d.next;
  r.phase = phase;
  r.deadlineAt = d.now + (r.definition.gitops?.sync?.timeoutMs ?? 600_000);
  emit(d, { type: 'gitops-sync', revision, image });
}

export function gitCommitResult(d: Draft, result: EffectResult): void {
  const r = d.next;
  const report = result.gitops;
  if (report?.mergeRequest && r.gitops) r.gitops.mergeRequest = report.mergeRequest;
  if (result.outcome === 'ok' && report?.commit && r.gitops) {
    clearWait(d, 'merge-request');
    r.gitops.commit = report.commit;
    audit(d, 'gitops-committed', `${short(report.commit.sha)} ${r.gitops.pins.map((pin) => `${pin.path}: ${pin.before} → ${pin.after}`).join('; ')}`);
    announce(d, 'progress', false);
    const sync = r.definition.gitops?.sync;
    if (sync) {
      startSync(d, report.commit.sha, r.image, 'sync');
      return;
    }
    // Without a controller canarybot sets the stable image itself, now that Git holds it.
    r.phase = 'stable';
    r.deadlineAt = d.now + r.definition.target.readinessDeadlineMs;
    emit(d, { type: 'ensure-stable', image: r.image });
    return;
  }
  if (result.outcome === 'progressing') {
    if (r.deadlineAt !== null && d.now >= r.deadlineAt) {
      const mr = r.gitops?.mergeRequest ? `merge request !${r.gitops.mergeRequest.iid}` : 'the Git write';
      startRollback(d, 'rolled-back', `${mr} was not merged within ${formatDuration(r.definition.gitops?.mergeTimeoutMs ?? 0)}`);
      return;
    }
    if (report?.waiting) setWait(d, report.waiting, r.deadlineAt);
    wakeAt(d, d.now + MERGE_POLL_MS, `git-poll-${d.now}`);
    return;
  }
  clearWait(d, 'merge-request');
  startRollback(d, 'rolled-back', `the Git write of the promotion failed, nothing was promoted: ${failureText(result)}`);
}

/** The controller's answer while promotion or rollback waits for it. */
export function gitSyncResult(d: Draft, result: EffectResult): void {
  const r = d.next;
  const rollingBack = r.state === 'rolling-back';
  if (result.outcome === 'ok') {
    clearWait(d, 'sync');
    if (r.gitops) r.gitops.sync = 'Synced';
    audit(d, 'gitops-synced', result.gitops?.waiting?.sentence ?? `the controller applied ${short(rollingBack ? (r.gitops?.revert?.sha ?? '') : (r.gitops?.commit?.sha ?? ''))}`);
    r.deadlineAt = null;
    if (rollingBack) {
      rollbackSettle(d);
      return;
    }
    promotionStableReady(d);
    return;
  }
  const timedOut = r.deadlineAt !== null && d.now >= r.deadlineAt;
  const why = result.outcome === 'progressing' ? (result.message ?? 'not applied yet') : failureText(result);
  if (result.outcome === 'progressing' && !timedOut) {
    if (r.gitops) r.gitops.sync = why;
    if (result.gitops?.waiting) setWait(d, result.gitops.waiting, r.deadlineAt);
    wakeAt(d, d.now + POLL_MS, `sync-poll-${d.now}`);
    return;
  }
  clearWait(d, 'sync');
  const what = timedOut ? `the GitOps controller did not apply the commit within ${formatDuration(r.definition.gitops?.sync?.timeoutMs ?? 0)}: ${why}` : `the GitOps controller failed: ${why}`;
  if (!rollingBack) {
    startRollback(d, 'rolled-back', what);
    return;
  }
  // Traffic is on stable already; what is left is the scale-down, and the release fails loudly.
  if (r.gitops) r.gitops.revertRefused = `the revert is in Git but ${what}`;
  audit(d, 'gitops-sync-failed', what);
  rollbackSettle(d);
}

// ---- rollback -------------------------------------------------------------------------------

/**
 * A rollback after the promotion's commit needs a revert commit (once); one while its merge request
 * waits needs the MR closed, or GitLab merges it later and the controller puts the image on stable.
 */
export function needsGitRevert(release: Release): boolean {
  const g = release.gitops;
  if (g == null || g.revert !== null || g.revertRefused !== null) return false;
  return g.commit !== null || mergeRequestToClose(release) !== null || mayHoldUnrecordedMergeRequest(release) || mayHoldUnrecordedCommit(release);
}

/** The promotion asked GitLab for its commit, and none is recorded: it may be in Git all the same. */
function mayHoldUnrecordedCommit(release: Release): boolean {
  const g = release.gitops;
  return g != null && g.commitAsked === true && g.commit === null && g.mergeRequest === null;
}

/** The promotion asked GitLab for its merge request, and none is recorded: one may be open all the same. */
function mayHoldUnrecordedMergeRequest(release: Release): boolean {
  const g = release.gitops;
  return g != null && g.mergeRequestAsked === true && g.commit === null && g.mergeRequest === null && g.mergeRequestClosed !== true;
}

/** The promotion's merge request when it is recorded, not merged and not closed yet. */
export function mergeRequestToClose(release: Release): { iid: number; url: string } | null {
  const g = release.gitops;
  if (g == null || g.commit !== null || g.mergeRequestClosed === true) return null;
  return g.mergeRequest;
}

export function startGitRevert(d: Draft): void {
  clearWait(d, 'merge-request');
  d.next.phase = 'git-revert';
  d.next.deadlineAt = null;
  emit(d, { type: 'gitops-revert' });
}

/**
 * The revert's result. `restore` continues the rollback without a controller (the stable image is
 * put back by canarybot, now that Git holds it again).
 */
export function gitRevertResult(d: Draft, result: EffectResult, restore: (d: Draft) => void): void {
  const r = d.next;
  const report = result.gitops;
  // A merge request GitLab opened but the release never recorded, found by the rollback.
  if (result.outcome === 'ok' && report?.mergeRequest && r.gitops && r.gitops.mergeRequest === null && r.gitops.commit === null) r.gitops.mergeRequest = report.mergeRequest;
  const open = mergeRequestToClose(r);
  if (result.outcome === 'ok' && report?.closedMergeRequest && open && r.gitops) {
    r.gitops.mergeRequestClosed = true;
    audit(d, 'gitops-merge-request-closed', `merge request !${open.iid} closed (the release rolled back)`);
    announce(d, 'progress', false);
    restore(d);
    return;
  }
  if (result.outcome === 'ok' && report?.mergedBeforeClose && r.gitops) {
    // It merged before it could be closed: a landed commit like any other, reverted below.
    r.gitops.commit = report.mergedBeforeClose;
    audit(d, 'gitops-merged-before-close', `merge request !${open?.iid ?? '?'} merged as ${short(report.mergedBeforeClose.sha)} before the rollback could close it: reverting it`);
  }
  if (result.outcome === 'ok' && report?.nothingToRevert === true && r.gitops && mergeRequestToClose(r) === null) {
    audit(d, 'gitops-nothing-to-revert', nothingToRevertText(r.gitops));
    restore(d);
    return;
  }
  if (result.outcome === 'ok' && report?.commit && r.gitops) {
    r.gitops.revert = report.commit;
    audit(d, 'gitops-reverted', `${short(report.commit.sha)} ${r.gitops.pins.map((pin) => `${pin.path}: ${pin.after} → ${pin.before}`).join('; ')}`);
    announce(d, 'progress', false);
    const sync = r.definition.gitops?.sync;
    if (sync) startSync(d, report.commit.sha, r.stableImageBefore ?? '', 'revert-sync');
    else restore(d);
    return;
  }
  const why = report?.refused ?? (result.outcome === 'ok' ? 'the revert wrote nothing' : failureText(result));
  const stillOpen = mergeRequestToClose(r);
  const refused = stillOpen === null ? why
    : `merge request !${stillOpen.iid} (${stillOpen.url}) could NOT be closed and may still merge and put ${r.image} on stable — close it by hand: ${why}`;
  if (r.gitops) r.gitops.revertRefused = refused;
  r.reason = `${r.reason ?? 'rollback'}; Git was NOT rolled back: ${refused}`;
  audit(d, 'gitops-revert-refused', refused);
  // Never put an image on stable that Git does not hold: the stable image stays as it is.
  rollbackSettle(d);
}

function nothingToRevertText(g: NonNullable<Release['gitops']>): string {
  if (g.commit === null && g.mergeRequestAsked === true) return 'no merge request of the promotion was open or merged: nothing to close or revert';
  const pins = g.pins.map((pin) => `${pin.path} ${pin.where}`).join('; ');
  return `no pin holds canarybot's value (${pins})${g.commit === null ? ': the promotion\'s commit never landed' : ''}: nothing to revert, nothing written`;
}

/** A rollback whose Git revert was refused or whose controller failed ends failed, not rolled back. */
export function gitOpsRollbackFailed(release: Release): boolean {
  return (release.gitops?.revertRefused ?? null) !== null;
}
