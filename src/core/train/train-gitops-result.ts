// What comes back from a train's GitOps write (check, commit or merge request, revert), and where
// the run goes next: the phase moves on when every write is in; a refusal or failure before the
// writes rolls the whole train back; a refused revert leaves the human's value and fails the run.

import { formatDuration } from '../decide/describe.js';
import type { TrainDraft } from './train-draft.js';
import { report, retryLater, trainAudit, wakeTrainAt } from './train-draft.js';
import { describeWrite, gitDeadlineMs, memberWrite, shareWrite, syncDeadlineMs, writeOf } from './train-gitops.js';
import { phaseDone, startRollback } from './train-phases.js';
import type { TrainGitOpsAction, TrainInput } from './train-run.js';

/** How often an open merge request is looked at while the train waits for it. */
export const MERGE_POLL_MS = 5000;

export const ACTION_OF_PHASE: Record<string, TrainGitOpsAction> = { 'git-check': 'check', git: 'commit', 'git-revert': 'revert' };

export function gitOpsResult(d: TrainDraft, input: Extract<TrainInput, { type: 'gitops-result' }>): void {
  const r = d.next;
  const write = writeOf(r, input.write);
  const { result } = input;
  const found = result.gitops;
  if (found?.mergeRequest && !write.mergeRequest) {
    write.mergeRequest = found.mergeRequest;
    trainAudit(d, 'gitops-merge-request', `${write.key} !${found.mergeRequest.iid} ${found.mergeRequest.url}`);
  }
  switch (result.outcome) {
    case 'ok':
      if (input.action === 'commit' && found?.commit) {
        write.commit = found.commit;
        trainAudit(d, 'gitops-committed', describeWrite(r, write, 'promote'));
        report(d, 'committed');
      } else if (input.action === 'revert' && found?.refused) {
        refuseRevert(d, input.write, found.refused);
      } else if (input.action === 'revert' && found?.closedMergeRequest) {
        write.mergeRequestClosed = true;
        trainAudit(d, 'gitops-merge-request-closed', `${write.key} !${found.closedMergeRequest.iid}: not merged, closed (nothing to revert)`);
      } else if (input.action === 'revert' && found?.nothingToRevert === true) {
        const why = write.commit === null && write.mergeRequestAsked === true ? 'no merge request of the promotion was open or merged: nothing to close or revert'
          : `no pin holds canarybot's value${write.commit === null ? ' (the promotion\'s commit never landed)' : ''}: nothing to revert, nothing written`;
        trainAudit(d, 'gitops-nothing-to-revert', `${write.key}: ${why}`);
      } else if (input.action === 'revert' && found?.commit) {
        write.revert = found.commit;
        trainAudit(d, 'gitops-reverted', describeWrite(r, write, 'revert'));
        report(d, 'committed');
      }
      shareWrite(d, write);
      writeDone(d, input.write);
      return;
    case 'progressing':
      shareWrite(d, write);
      if (r.deadlineAt !== null && d.now >= r.deadlineAt) {
        const what = write.mergeRequest ? `merge request !${write.mergeRequest.iid} of ${String(write.repository)}` : `the Git write of ${write.key}`;
        startRollback(d, 'rolled-back', `${what} was not merged within ${formatDuration(gitDeadlineMs(r))}`);
        return;
      }
      wakeTrainAt(d, d.now + MERGE_POLL_MS, `git-poll-${d.now}`);
      return;
    case 'transient':
      retryLater(d, `${write.key}: gitops ${input.action} ${result.code}: ${result.message}`);
      return;
    case 'terminal':
      if (input.action === 'revert') {
        refuseRevert(d, input.write, result.message);
        writeDone(d, input.write);
        return;
      }
      startRollback(d, 'rolled-back', `the Git write of the promotion was refused${input.action === 'check' ? ', nothing was written' : ''}: ${result.message}`);
  }
}

/** Git keeps what a human wrote there; the stable images stay as Git has them and the run will fail. */
function refuseRevert(d: TrainDraft, key: string, why: string): void {
  const r = d.next;
  const write = writeOf(r, key);
  write.revertRefused = why;
  shareWrite(d, write);
  r.reason = `${r.reason ?? 'rollback'}; Git was NOT rolled back in ${key}: ${why}`;
  trainAudit(d, 'gitops-revert-refused', `${key}: ${why}`);
}

function writeDone(d: TrainDraft, key: string): void {
  const r = d.next;
  r.waitingOn = r.waitingOn.filter((other) => other !== key);
  if (r.waitingOn.length === 0) phaseDone(d);
}

/**
 * A rollback's controller did not apply the revert (timed out or failed): traffic is on stable
 * already, so the rollback goes on to the scale-down and the run fails saying so.
 */
export function revertSyncFailed(d: TrainDraft, name: string, why: string): void {
  const r = d.next;
  const what = why === 'timeout' ? `the GitOps controller did not apply the revert within ${formatDuration(syncDeadlineMs(r))}` : `the GitOps controller failed: ${why}`;
  const write = memberWrite(r, name);
  if (write && write.revertRefused === null) {
    write.revertRefused = `the revert is in Git but ${what}`;
    shareWrite(d, write);
  }
  r.reason = `${r.reason ?? 'rollback'}; ${name}: the revert is in Git but ${what}`;
  trainAudit(d, 'gitops-sync-failed', `${name}: ${what}`);
  writeDone(d, name);
}
