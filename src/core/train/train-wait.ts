// What a live train run is waiting for right now, as the generic `wait` of single releases
// (sentence, since, until, link) that the notes, chat, the API and the CLI render. Derived from the
// run after every decision (finishTrain), so every phase says it the same way; `since` is kept while
// the kind stays the same.

import type { ReleaseWait } from '../release.js';
import { describeTrainStep } from './train-phases.js';
import type { TrainRun } from './train-run.js';

/** The kinds a train's wait takes (single releases use `retry`, `rollback-blocked`, `merge-request` and `sync` alike). */
export const TRAIN_WAIT_KINDS = ['canaries', 'approval', 'pause', 'settle', 'analysis', 'rollout', 'retry', 'rollback-blocked', 'git', 'merge-request', 'sync'] as const;

type WaitBody = Omit<ReleaseWait, 'since'>;

function clock(at: number): string {
  return `${new Date(at).toISOString().slice(11, 16)} UTC`;
}

function list(names: readonly string[]): string {
  return names.join(', ');
}

/** Who may approve: every member bringing an image applies its own approvals policy. */
function approvers(run: TrainRun): string {
  return run.members
    .filter((member) => member.image !== null)
    .map((member) => {
      const { minAccessLevel, users, groups } = member.definition.approvals;
      const named = [...users.map((user) => `@${user}`), ...groups];
      return `${member.name}: ${minAccessLevel}${named.length > 0 ? ` or ${named.join(', ')}` : ''}`;
    })
    .join('; ');
}

function lastRetry(run: TrainRun): string {
  const entry = [...run.audit].reverse().find((candidate) => candidate.action === 'retry');
  return entry?.detail ?? run.phase;
}

function isRetrying(run: TrainRun): boolean {
  return run.retries > 0 && run.wakeKey !== null && run.wakeKey.includes('_retry-');
}

function gitWait(run: TrainRun): WaitBody | null {
  const writes = (run.gitops ?? []).filter((write) => run.waitingOn.includes(write.key));
  if (writes.length === 0) return null;
  const open = writes.find((write) => write.mergeRequest !== null && write.commit === null);
  if (open?.mergeRequest) {
    return { kind: 'merge-request', sentence: `Waiting for merge request !${open.mergeRequest.iid} (${open.key}: ${list(open.members)}) to be merged.`, until: run.deadlineAt, link: open.mergeRequest.url };
  }
  const what = run.phase === 'git-revert' ? 'Reverting' : 'Writing';
  return { kind: 'git', sentence: `${what} the train's pins in Git: ${list(writes.map((write) => `${write.key} (${list(write.members)})`))}.`, until: run.deadlineAt };
}

/** A member whose stable Deployment follows a GitOps controller waits for it to apply the write. */
function stableWait(run: TrainRun): WaitBody {
  const synced = run.members.filter((member) => run.waitingOn.includes(member.name) && member.definition.gitops?.sync !== undefined && member.gitops?.commit);
  const restoring = run.phase === 'restore';
  if (synced.length > 0) {
    const revisions = synced.map((member) => `${member.name} ${(restoring ? member.gitops?.revert?.sha : member.gitops?.commit?.sha)?.slice(0, 8) ?? '?'}`);
    const link = (restoring ? synced[0]?.gitops?.revert?.url : synced[0]?.gitops?.commit?.url) ?? null;
    return { kind: 'sync', sentence: `Waiting for the GitOps controller to apply ${list(revisions)}.`, until: run.deadlineAt, link };
  }
  const doing = restoring ? 'to be restored' : 'to roll out its new image';
  return { kind: 'rollout', sentence: `Waiting for the stable Deployment of ${list(run.waitingOn)} ${doing}.`, until: run.deadlineAt };
}

function progressWait(run: TrainRun): WaitBody | null {
  const step = run.train.steps[run.stepIndex];
  const stepText = step ? `step ${run.stepIndex + 1}/${run.train.steps.length} (${describeTrainStep(step)})` : 'the next step';
  switch (run.phase) {
    case 'settle':
      return { kind: 'settle', sentence: `Letting the lane's traffic settle before ${run.state === 'progressing' ? 'the next step' : 'scaling the canaries down'}.`, until: run.wakeAt };
    case 'pause':
      return { kind: 'pause', sentence: `Paused (${stepText}) until ${run.wakeAt === null ? 'later' : clock(run.wakeAt)}.`, until: run.wakeAt };
    case 'analysis':
    case 'checking': {
      const progress = run.analysis;
      const figures = progress ? `${progress.checks} checks so far (${progress.passed} passed, ${progress.failed} failed, ${progress.inconclusive} inconclusive)` : 'no check yet';
      return { kind: 'analysis', sentence: `Analysing the lane's traffic on every member's canary (${stepText}): ${figures}.`, until: run.phase === 'analysis' ? run.wakeAt : null };
    }
    default:
      return null;
  }
}

/** What the run waits for now, or null when it is moving on its own (or has ended). */
export function trainWaitBody(run: TrainRun): WaitBody | null {
  if (run.phase === 'done' || run.phase === 'created') return null;
  if (isRetrying(run)) {
    if (run.state === 'rolling-back') {
      return { kind: 'rollback-blocked', sentence: `The rollback is blocked: ${lastRetry(run)}; retrying with backoff, ${run.retries} ${run.retries === 1 ? 'try' : 'tries'} failed so far.`, until: run.wakeAt };
    }
    return { kind: 'retry', sentence: `Retrying ${run.phase}: ${lastRetry(run)}; ${run.retries} ${run.retries === 1 ? 'try' : 'tries'} failed so far.`, until: run.wakeAt };
  }
  if (run.state === 'awaiting-approval') {
    return { kind: 'approval', sentence: `Waiting for \`/canary train approve ${run.train.name}\` (or promote, abort) from someone every member's approvals policy allows (${approvers(run)}).`, until: null };
  }
  switch (run.phase) {
    case 'canary': {
      const ready = run.members.filter((member) => member.canary === 'ready').length;
      const all = run.members.filter((member) => member.image !== null).length;
      return { kind: 'canaries', sentence: `Waiting for every canary to become ready before any lane route is written: ${list(run.waitingOn)} not ready yet (${ready} of ${all} ready).`, until: run.deadlineAt };
    }
    case 'git-check':
    case 'git':
    case 'git-revert':
      return gitWait(run);
    case 'stable':
    case 'restore':
      return run.waitingOn.length > 0 ? stableWait(run) : null;
    default:
      return run.state === 'progressing' || run.state === 'promoting' || run.state === 'rolling-back' ? progressWait(run) : null;
  }
}

/** The run's wait after a decision: `since` stays while the kind does. */
export function trainWait(run: TrainRun, previous: ReleaseWait | null | undefined, now: number): ReleaseWait | null {
  const body = trainWaitBody(run);
  if (!body) return null;
  const since = previous && previous.kind === body.kind ? previous.since : now;
  return { kind: body.kind, sentence: body.sentence, since, until: body.until ?? null, link: body.link ?? null };
}
