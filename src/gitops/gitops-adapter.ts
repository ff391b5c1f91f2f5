// GitOpsPort over the config repository (GitLab) and the sync controller (Argo CD, Flux).
//   preflight: read every pinned file at the branch head; the pin must exist and hold the stable
//              image's tag (drift: refuse → GITOPS_DRIFT naming file, Git value and cluster image;
//              warn → a warning); the controller's object must exist and ignore canarybot's fields.
//   promote:   one commit of every pinned file (via: commit), or a branch, a merge request and its
//              merge (via: merge-request); a lost race is re-read, re-applied and retried with full
//              jitter, under a lock per repository and branch shared by all replicas; a pin that no
//              longer holds what pre-flight read (someone else's tag) refuses it, writing nothing.
//   revert:    one commit back to the pre-flight values, written only when every file still holds
//              canarybot's value: a human's later change is never overwritten. A merge request not
//              merged yet is closed instead (one that merged meanwhile is reverted as a commit). A
//              commit asked for but not recorded is reverted where its value landed; none landed (or
//              every pin back already): nothingToRevert, nothing written.
// Every step is idempotent: a re-run after a crash finds the value in place and reports that commit.

import { backoffDelayMs } from '../core/backoff.js';
import { CanarybotError } from '../core/errors.js';
import { describePin, filesFor, type GitOpsSpec } from '../core/gitops-spec.js';
import type { GitOpsPinRecord } from '../core/gitops-state.js';
import type { GitOpsReport } from '../core/input.js';
import type { GitOpsAnswer, GitOpsPort, TrainGitOpsRequest } from '../core/ports.js';
import type { Release } from '../core/release.js';
import { commitMessage, planCommit, trainCommitMessage, type PinEdit } from './commit-builder.js';
import type { ConfigMergeRequest, ConfigRepository, RepositoryFile } from './config-repository.js';
import { imageTag, PinError, readPin } from './edit-pin.js';
import type { RepositoryLock } from './repository-lock.js';

/** The controller that applies the repository (Argo CD, Flux): checked at pre-flight, awaited after a commit. */
export interface SyncController {
  /** Throws PREFLIGHT_FAILED (with the YAML to add) when the object is missing or would revert canarybot's fields. */
  preflight(release: Release): Promise<void>;
  sync(release: Release, revision: string, image: string): Promise<GitOpsAnswer>;
}

export interface GitOpsAdapterOptions {
  repository: ConfigRepository;
  lock: RepositoryLock;
  controller?: SyncController;
  /** Tries of a commit that keeps losing the race (default 5). */
  raceAttempts?: number;
  raceBackoff?: { baseMs: number; capMs: number };
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

function specOf(release: Release): GitOpsSpec {
  const spec = release.definition.gitops;
  if (!spec) throw new CanarybotError('INTERNAL', `release ${release.id} has no spec.gitops`);
  return spec;
}

/** A pin holds a value the release neither read nor wrote: someone else's, never overwritten. */
class HumanChange extends Error {}

/** An edit with the pin record pre-flight made for it (absent in records older than pre-flight's pins). */
interface TrackedEdit extends PinEdit {
  record: GitOpsPinRecord | undefined;
}

/** Why a pin read now is not canarybot's to change (someone else's value), or null. */
type Owned = (edit: PinEdit, now: string) => string | null;

/** Promotion: each pin must still hold what pre-flight read (or, on a re-run, the release's own value). */
function promotionOwned(edits: readonly TrackedEdit[], where: string): Owned {
  return (edit, now) => {
    const before = edits.find((candidate) => candidate === edit)?.record?.before;
    return before === undefined || now === before || now === edit.value ? null : `${edit.path} ${describePin(edit.pin)} is now ${now} in ${where}, not ${before} as read at pre-flight: changed during the release, left as it is`;
  };
}

/** Revert: each pin must still hold canarybot's value (or, on a re-run, the value put back). */
function revertOwned(edits: readonly TrackedEdit[]): Owned {
  return (edit, now) => {
    const ours = edits.find((candidate) => candidate === edit)?.record?.after;
    return now === ours || now === edit.value ? null : `${edit.path} ${describePin(edit.pin)} is now ${now}, not canarybot's ${ours ?? '?'}: changed after canarybot's commit, left as it is`;
  };
}

/** Whether a pin read now holds canarybot's value (pre-flight `after`): its commit landed. */
type Landed = (edit: PinEdit, now: string) => boolean;

function holdsOurs(edits: readonly TrackedEdit[]): Landed {
  return (edit, now) => {
    const ours = edits.find((candidate) => candidate === edit)?.record?.after;
    return ours !== undefined && now === ours;
  };
}

/** A commit loop's end: a commit it wrote, or (wrote: false) the head, everything already in place. */
interface Written {
  sha: string;
  url: string;
  wrote: boolean;
}

/** The release's pins as edits: to the promoted values, or back to pre-flight's. */
function editsFor(release: Release, direction: 'promote' | 'revert'): TrackedEdit[] {
  const pins = release.gitops?.pins ?? [];
  return releaseFiles(release).map((file, i) => {
    const record = pins[i];
    const after = record?.after ?? pinValue(file.pin, release.image);
    return { service: release.service, path: file.path, pin: file.pin, value: direction === 'promote' ? after : (record?.before ?? ''), record };
  });
}

/** The value a pin holds for an image: the tag, or the whole reference for a manifest. */
function pinValue(pin: GitOpsSpec['files'][number]['pin'], image: string): string {
  return pin.kind === 'manifest' ? image : (imageTag(image) ?? image);
}

/** The files of the release's current cluster: its own, and the shared ones on the last cluster. */
function releaseFiles(release: Release): GitOpsSpec['files'] {
  const clusters = release.definition.target.clusters;
  return filesFor(specOf(release), release.cluster, release.clusterIndex >= clusters.length - 1);
}

function tagOf(image: string): string {
  return imageTag(image) ?? image;
}

export function createGitOpsAdapter(options: GitOpsAdapterOptions): GitOpsPort {
  const { repository: repo, lock } = options;
  const attempts = options.raceAttempts ?? 5;
  const backoff = options.raceBackoff ?? { baseMs: 200, capMs: 3_000 };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function branchOf(release: Release): Promise<string> {
    const spec = specOf(release);
    return release.gitops?.branch || spec.branch || (await repo.defaultBranch(spec.repository));
  }

  async function readAll(project: string | number, paths: readonly string[], ref: string): Promise<Map<string, RepositoryFile>> {
    const files = new Map<string, RepositoryFile>();
    for (const path of new Set(paths)) {
      const file = await repo.readFile(project, path, ref);
      if (!file) throw new CanarybotError('PREFLIGHT_FAILED', `spec.gitops: ${path} does not exist on ${ref} of ${String(project)}`);
      files.set(path, file);
    }
    return files;
  }

  /**
   * Read, check, plan, commit; a lost race starts again from the read, with full jitter, a bounded
   * number of times. Call with the lock held. Every read (the first and each after a lost race) is
   * checked by `owned`: a pin holding a value the release did not read or write was changed by
   * someone else, and is left as it is (HumanChange, naming it).
   */
  async function commitLoop(project: string | number, edits: PinEdit[], message: string, target: { branch: string; startBranch?: string }, owned: Owned, landed?: Landed): Promise<Written> {
    for (let attempt = 1; ; attempt += 1) {
      const ref = target.startBranch !== undefined && (await repo.branchHead(project, target.branch)) === null ? target.startBranch : target.branch;
      const files = await readAll(project, edits.map((edit) => edit.path), ref);
      const values = edits.map((edit) => readPin(files.get(edit.path)!.content, edit.pin, edit.path));
      const head = files.get(edits[0]!.path)!.lastCommitId;
      // An unrecorded promotion with its value in no pin never landed (or was replaced whole): nothing of canarybot's to change.
      if (landed !== undefined && !edits.some((edit, i) => landed(edit, values[i]!))) return { sha: head, url: repo.commitUrl(project, head), wrote: false };
      const changed = edits.flatMap((edit, i) => {
        const problem = owned(edit, values[i]!);
        return problem === null ? [] : [problem];
      });
      if (changed.length > 0) throw new HumanChange(changed.join('; '));
      const plan = planCommit(files, edits);
      if (plan.changes.length === 0) {
        // Already in place (a re-run after a crash, or a second cluster of the same release): the head, not a commit of ours.
        return { sha: head, url: repo.commitUrl(project, head), wrote: false };
      }
      try {
        const result = await repo.commit(project, { branch: target.branch, ...(ref !== target.branch ? { startBranch: ref } : {}), message, changes: plan.changes });
        return { sha: result.sha, url: result.webUrl, wrote: true };
      } catch (error) {
        if (!(error instanceof CanarybotError && error.code === 'GITOPS_RACE') || attempt >= attempts) throw error;
        await sleep(backoffDelayMs(attempt, backoff, random));
      }
    }
  }

  /** The promotion's commit: each pin must still hold what pre-flight read (or, on a re-run, the release's own value). */
  async function commitPromotion(project: string | number, edits: TrackedEdit[], message: string, target: { branch: string; startBranch?: string }): Promise<{ sha: string; url: string }> {
    try {
      const { sha, url } = await lock.withLock(project, target.branch, () => commitLoop(project, edits, message, target, promotionOwned(edits, `${String(project)}@${target.branch}`)));
      return { sha, url };
    } catch (error) {
      if (error instanceof HumanChange) throw new CanarybotError('GITOPS_REFUSED', `${error.message} (nothing was promoted)`);
      throw error;
    }
  }

  /**
   * One revert commit, or nothingToRevert when no pin needs it (every pin holds its pre-flight value
   * already; for an unrecorded commit, no pin holds canarybot's): the head is never reported as a revert.
   */
  async function revertCommit(project: string | number, branch: string, edits: TrackedEdit[], message: string, unrecorded: boolean): Promise<GitOpsReport> {
    try {
      const written = await lock.withLock(project, branch, () => commitLoop(project, edits, message, { branch }, revertOwned(edits), unrecorded ? holdsOurs(edits) : undefined));
      return written.wrote ? { commit: { sha: written.sha, url: written.url } } : { nothingToRevert: true };
    } catch (error) {
      if (error instanceof HumanChange) return { refused: error.message };
      throw error;
    }
  }

  /**
   * The promotion's merge request when none is recorded: a re-run after GitLab created it but before
   * the record was saved. An open MR from canarybot's branch is taken as it is (GitLab allows one
   * per source and target); a merged one only when it carries this release's or run's trailer
   * (`marker`): the branch name repeats when the same image is released again later. A closed MR is
   * never taken.
   */
  async function unrecordedMergeRequest(project: string | number, branch: string, source: string, marker: string): Promise<ConfigMergeRequest | null> {
    const open = await repo.findMergeRequest(project, { sourceBranch: source, targetBranch: branch, state: 'open' });
    if (open) return open;
    const merged = await repo.findMergeRequest(project, { sourceBranch: source, targetBranch: branch, state: 'merged' });
    return merged !== null && merged.description.split('\n').includes(marker) ? merged : null;
  }

  /** Opens (once) and follows the merge request of `source` into `branch`; merged → done with its merge commit. */
  async function mergeRequestFlow(project: string | number, branch: string, known: { iid: number; url: string } | null, request: { source: string; marker: string; title: string; description: string; commit: (target: { branch: string; startBranch: string }) => Promise<unknown> }): Promise<GitOpsAnswer> {
    const waiting = (mr: { iid: number; webUrl: string }, state: string): GitOpsAnswer => ({
      done: false,
      message: `merge request !${mr.iid} ${state}`,
      report: { mergeRequest: { iid: mr.iid, url: mr.webUrl }, waiting: { kind: 'merge-request', sentence: `Waiting for merge request !${mr.iid} of ${String(project)} to be merged (${state}).`, link: mr.webUrl } },
    });
    const mergedAnswer = (mr: ConfigMergeRequest, sha: string): GitOpsAnswer => ({ done: true, report: { mergeRequest: { iid: mr.iid, url: mr.webUrl }, commit: { sha, url: repo.commitUrl(project, sha) } } });
    /** Merge when the pipeline succeeds (merge now without one), unless GitLab is set to already. */
    const follow = async (mr: ConfigMergeRequest): Promise<GitOpsAnswer> => {
      if (mr.pipeline === 'failed') throw new CanarybotError('GITOPS_REFUSED', `the pipeline of merge request !${mr.iid} of ${String(project)} failed`);
      const merged = mr.mergeWhenPipelineSucceeds ? mr : await repo.merge(project, mr.iid, { whenPipelineSucceeds: mr.pipeline === 'running' });
      if (merged.state === 'merged' && merged.mergeCommitSha) return mergedAnswer(mr, merged.mergeCommitSha);
      return waiting(mr, merged.mergeWhenPipelineSucceeds ? 'is set to merge when its pipeline succeeds' : 'is open');
    };
    if (known) {
      const mr = await repo.mergeRequest(project, known.iid);
      if (mr.state === 'merged' && mr.mergeCommitSha) return { done: true, report: { mergeRequest: known, commit: { sha: mr.mergeCommitSha, url: repo.commitUrl(project, mr.mergeCommitSha) } } };
      if (mr.state !== 'open') throw new CanarybotError('GITOPS_REFUSED', `merge request !${mr.iid} of ${String(project)} was ${mr.state} without being merged`);
      if (mr.pipeline === 'failed') throw new CanarybotError('GITOPS_REFUSED', `the pipeline of merge request !${mr.iid} of ${String(project)} failed`);
      return waiting(mr, mr.mergeWhenPipelineSucceeds ? 'is set to merge when its pipeline succeeds' : 'is open');
    }
    // Looked up before the commit: a merged MR's source branch is gone, and the commit would start it again.
    const merged = await unrecordedMergeRequest(project, branch, request.source, request.marker);
    if (merged?.state === 'merged' && merged.mergeCommitSha) return mergedAnswer(merged, merged.mergeCommitSha);
    await request.commit({ branch: request.source, startBranch: branch });
    const existing = merged ?? (await repo.findMergeRequest(project, { sourceBranch: request.source, targetBranch: branch, state: 'open' }));
    return follow(existing ?? (await repo.createMergeRequest(project, { sourceBranch: request.source, targetBranch: branch, title: request.title, description: request.description })));
  }

  /** The branch a single release's merge request comes from. */
  function singleSource(release: Release): string {
    return `canarybot/${release.service}-${tagOf(release.image)}`;
  }

  /** The MR recorded, else (via: merge-request, nothing committed) one GitLab holds unrecorded. */
  async function mergeRequestToClose(project: string | number, branch: string, recorded: { iid: number; url: string } | null, unrecorded: { source: string; marker: string } | null): Promise<{ iid: number; url: string } | null> {
    if (recorded !== null || unrecorded === null) return recorded;
    const found = await unrecordedMergeRequest(project, branch, unrecorded.source, unrecorded.marker);
    return found ? { iid: found.iid, url: found.webUrl } : null;
  }

  function singleMessage(release: Release, title: string): string {
    return commitMessage({ title, mergeRequest: release.mr?.url ?? (release.mr ? `!${release.mr.iid}` : null), releaseIds: [release.id] });
  }

  function trainTitle(write: TrainGitOpsRequest, verb: 'promote' | 'roll back'): string {
    const members = write.members.map((member) => `${member.service} to ${tagOf(verb === 'promote' ? member.image : (member.gitops?.pins[0]?.before ?? '?'))}`);
    return `canarybot: ${verb} train ${write.train}: ${members.join(', ')}`;
  }

  function trainMessage(write: TrainGitOpsRequest, verb: 'promote' | 'roll back'): string {
    const mergeRequests = write.members.flatMap((member) => (member.mr ? [`${member.service} ${member.mr.url ?? `!${member.mr.iid}`}`] : []));
    return trainCommitMessage({ title: trainTitle(write, verb), mergeRequests, trainRunId: write.runId, releaseIds: write.members.map((member) => member.id) });
  }

  function trainPinsText(write: TrainGitOpsRequest): string {
    return write.members.flatMap((member) => (member.gitops?.pins ?? []).map((pin) => `- ${member.service} \`${pin.path}\` ${pin.where}: \`${pin.before}\` → \`${pin.after}\``)).join('\n');
  }

  async function trainBranch(write: TrainGitOpsRequest): Promise<string> {
    return write.branch || (await repo.defaultBranch(write.repository));
  }

  return {
    async preflight(release, stableImage): Promise<GitOpsReport> {
      const spec = specOf(release);
      const branch = await branchOf(release);
      const entries = releaseFiles(release);
      const files = await readAll(spec.repository, entries.map((entry) => entry.path), branch);
      const pins: GitOpsPinRecord[] = [];
      const drift: string[] = [];
      for (const entry of entries) {
        let value: string;
        try {
          value = readPin(files.get(entry.path)!.content, entry.pin, entry.path);
        } catch (error) {
          if (error instanceof PinError) throw new CanarybotError('PREFLIGHT_FAILED', `spec.gitops: ${error.message} (${String(spec.repository)}@${branch})`);
          throw error;
        }
        const after = pinValue(entry.pin, release.image);
        const expected = stableImage === null ? null : pinValue(entry.pin, stableImage);
        // Holding the release's own value is no drift: an earlier cluster of this release, or a re-run, wrote it.
        if (expected !== null && value !== expected && value !== after) {
          drift.push(`${entry.path} ${describePin(entry.pin)} is ${value} in ${String(spec.repository)}@${branch}, but Deployment ${release.definition.target.stable.deployment} on ${release.cluster} runs ${stableImage}`);
        }
        pins.push({ path: entry.path, where: describePin(entry.pin), before: value, after });
      }
      if (drift.length > 0 && spec.onDrift === 'refuse') {
        throw new CanarybotError('GITOPS_DRIFT', `Git and the cluster disagree (onDrift: refuse, nothing was written): ${drift.join('; ')}`);
      }
      await options.controller?.preflight(release);
      return { branch, pins, warnings: drift };
    },

    async promote(release): Promise<GitOpsAnswer> {
      const spec = specOf(release);
      const branch = await branchOf(release);
      const edits = editsFor(release, 'promote');
      const title = `canarybot: promote ${release.service} to ${tagOf(release.image)}`;
      if (spec.via === 'merge-request') {
        const pinsText = (release.gitops?.pins ?? []).map((pin) => `- \`${pin.path}\` ${pin.where}: \`${pin.before}\` → \`${pin.after}\``).join('\n');
        return mergeRequestFlow(spec.repository, branch, release.gitops?.mergeRequest ?? null, {
          source: singleSource(release),
          marker: `Canarybot-Release: ${release.id}`,
          title,
          description: `canarybot release \`${release.id}\` passed its canary and promotes ${release.image}.\n\n${pinsText}\n\nCanarybot-Release: ${release.id}`,
          commit: (target) => commitPromotion(spec.repository, edits, singleMessage(release, title), target),
        });
      }
      const commit = await commitPromotion(spec.repository, edits, singleMessage(release, title), { branch });
      return { done: true, report: { commit } };
    },

    async revert(release): Promise<GitOpsReport> {
      const spec = specOf(release);
      const branch = await branchOf(release);
      const old = release.gitops?.pins[0]?.before ?? '';
      const uncommitted = (release.gitops?.commit ?? null) === null;
      const unrecorded = uncommitted && spec.via === 'merge-request' ? { source: singleSource(release), marker: `Canarybot-Release: ${release.id}` } : null;
      const known = uncommitted ? await mergeRequestToClose(spec.repository, branch, release.gitops?.mergeRequest ?? null, unrecorded) : (release.gitops?.mergeRequest ?? null);
      if (unrecorded !== null && known === null) return { nothingToRevert: true };
      let merged: { sha: string; url: string } | undefined;
      // Rolled back while the MR waited: close it, or GitLab would merge it (and the controller apply it) later.
      if (uncommitted && known !== null) {
        const mr = await repo.closeMergeRequest(spec.repository, known.iid);
        if (mr.state !== 'merged') return { mergeRequest: known, closedMergeRequest: known };
        if (mr.mergeCommitSha) merged = { sha: mr.mergeCommitSha, url: repo.commitUrl(spec.repository, mr.mergeCommitSha) };
      }
      // via: commit with none recorded: the commit may have landed unrecorded (a crash or a lost answer), or never.
      const unrecordedCommit = uncommitted && spec.via !== 'merge-request';
      const report = await revertCommit(spec.repository, branch, editsFor(release, 'revert'), singleMessage(release, `canarybot: roll back ${release.service} to ${tagOf(old)}`), unrecordedCommit);
      return merged ? { ...report, mergedBeforeClose: merged } : report;
    },

    async checkTrain(write): Promise<void> {
      const branch = await trainBranch(write);
      const edits = write.members.flatMap((member) => editsFor(member, 'promote'));
      const files = await readAll(write.repository, edits.map((edit) => edit.path), branch);
      const owned = promotionOwned(edits, `${String(write.repository)}@${branch}`);
      const changed = edits.flatMap((edit) => {
        const problem = owned(edit, readPin(files.get(edit.path)!.content, edit.pin, edit.path));
        return problem === null ? [] : [problem];
      });
      if (changed.length > 0) throw new CanarybotError('GITOPS_REFUSED', `${changed.join('; ')} (nothing was promoted)`);
    },

    async promoteTrain(write): Promise<GitOpsAnswer> {
      const branch = await trainBranch(write);
      const edits = write.members.flatMap((member) => editsFor(member, 'promote'));
      const message = trainMessage(write, 'promote');
      if (write.via === 'merge-request') {
        return mergeRequestFlow(write.repository, branch, write.mergeRequest, {
          source: `canarybot/${write.runId}`,
          marker: `Canarybot-Train: ${write.runId}`,
          title: trainTitle(write, 'promote'),
          description: `canarybot release train \`${write.train}\` (run \`${write.runId}\`) passed its lane and promotes ${write.members.map((member) => member.image).join(', ')}.\n\n${trainPinsText(write)}\n\nCanarybot-Train: ${write.runId}`,
          commit: (target) => commitPromotion(write.repository, edits, message, target),
        });
      }
      return { done: true, report: { commit: await commitPromotion(write.repository, edits, message, { branch }) } };
    },

    async revertTrain(write): Promise<GitOpsReport> {
      const branch = await trainBranch(write);
      // Rolled back while the MR waited: close it, or GitLab would merge it (and the controller apply it) later.
      const unrecorded = write.commit === null && write.via === 'merge-request' ? { source: `canarybot/${write.runId}`, marker: `Canarybot-Train: ${write.runId}` } : null;
      const known = write.commit === null ? await mergeRequestToClose(write.repository, branch, write.mergeRequest, unrecorded) : null;
      if (unrecorded !== null && known === null) return { nothingToRevert: true };
      if (known !== null) {
        const mr = await repo.closeMergeRequest(write.repository, known.iid);
        if (mr.state !== 'merged') return { mergeRequest: known, closedMergeRequest: known };
      }
      return revertCommit(write.repository, branch, write.members.flatMap((member) => editsFor(member, 'revert')), trainMessage(write, 'roll back'), write.commit === null && write.via !== 'merge-request');
    },

    async sync(release, revision, image): Promise<GitOpsAnswer> {
      if (!options.controller) throw new CanarybotError('GITOPS_REFUSED', 'spec.gitops.sync is set but no controller adapter is configured');
      return options.controller.sync(release, revision, image);
    },
  };
}
