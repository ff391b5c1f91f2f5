// What GitLab should show for a release, derived from the record alone (so any replica can
// compute it and a newer record simply replaces an older one): commit status, deployment, note.

import { isHeld } from '../core/decide/hold-wait.js';
import { planSteps } from '../core/plan.js';
import { isLive, type Release } from '../core/release.js';
import { releasePageUrl } from '../core/release-links.js';
import type { EnvironmentTier } from '../core/definition.js';
import { deploymentEnvironment } from './deployment-environment.js';
import type { CommitStatusState, DeploymentStatus } from './gitlab-api.js';
import { renderProgressNote, type ProgressNoteLinks } from './render-progress-note.js';

export interface DesiredWriteback {
  releaseId: string;
  /** The definition's GitLab project (path or id): where the commit status and deployment go. */
  project: string | number;
  sha: string;
  ref: string;
  mr: { projectId: number; iid: number } | null;
  note: string | null;
  status: { state: CommitStatusState; name: string; targetUrl?: string; description: string };
  /** `tier` only when decided (spec.environment.tier or a production namespace): the environment is then made to have it. */
  deployment: { environment: string; tier?: EnvironmentTier; status: Exclude<DeploymentStatus, 'created'> };
  /**
   * Editing the progress note notifies nobody, so an approval wait, a hold and a rollback each also
   * get one short new note (DESIGN §9 allows it), posted once per `key` (attempt and step; a rollback
   * once per attempt, @-mentioning the MR author).
   */
  approvalRequest: { key: string; body: string } | null;
}

/** A held release @-mentions the approvers once per hold, with the figure: editing the note pings nobody. */
function holdRequest(release: Release): DesiredWriteback['approvalRequest'] {
  if (!release.mr) return null;
  const { users, groups } = release.definition.approvals;
  const mentions = [...users, ...groups].map((name) => `@${name}`);
  const body = [
    `🛑 **HELD:** ${'`'}${release.service}${'`'} at step ${release.stepIndex + 1} with the canary at ${release.weights.canary} %, not rolled back: ${(release.reason ?? 'a gate failed').replace(/\r?\n/g, ' ')}.`,
    'Comment `/canary abort` to roll back or `/canary resume` to go on' +
      (release.wait?.until != null ? `; with no decision it rolls back at ${new Date(release.wait.until).toISOString().slice(11, 16)} UTC.` : '.'),
    ...(mentions.length > 0 ? [mentions.join(' ')] : []),
  ].join(' ');
  return { key: `held-${release.attempt}-${release.stepIndex}-${release.wait?.since ?? 0}`, body };
}

/** A rollback (not an abort or a supersede) tells the MR author at once, with the reason: their change is off the canary. */
function rollbackMention(release: Release): DesiredWriteback['approvalRequest'] {
  const author = release.mr?.authorUsername;
  const rollingBack = release.state === 'rolling-back' && release.rollbackOutcome === 'rolled-back';
  if (!author || !(rollingBack || release.state === 'rolled-back')) return null;
  const body = [
    `⏪ @${author} \`${release.service}\` ${rollingBack ? 'is being rolled back' : 'was rolled back'}: all traffic goes back to stable.`,
    `${(release.reason ?? 'The release failed').replace(/\r?\n/g, ' ').replace(/[.\s]+$/, '')}.`,
    'The progress note above has the figures; `/canary retry` starts the release again once fixed.',
  ].join(' ');
  return { key: `rollback-${release.attempt}`, body };
}

function approvalRequest(release: Release): DesiredWriteback['approvalRequest'] {
  if (isHeld(release)) return holdRequest(release);
  const rollback = rollbackMention(release);
  if (rollback) return rollback;
  if (release.state !== 'awaiting-approval' || !release.mr) return null;
  const users = release.definition.approvals.users.map((u) => `@${u}`);
  const body = [
    `🙋 Approval needed for ${'`'}${release.service}${'`'} at step ${release.stepIndex + 1} (canary at ${release.weights.canary} %).`,
    'Comment `/canary approve` to continue or `/canary abort` to roll back; the progress note above has the figures.',
    ...(users.length > 0 ? [users.join(' ')] : []),
  ].join(' ');
  return { key: `${release.attempt}-${release.stepIndex}`, body };
}

/** DESIGN §9: promotion → success; gate failure, alert, deadline → failed; abort, supersede → canceled. */
export function commitStatusFor(release: Release): CommitStatusState {
  switch (release.state) {
    case 'pending':
      return 'pending';
    case 'succeeded':
      return 'success';
    case 'failed':
    case 'rolled-back':
      return 'failed';
    case 'aborted':
    case 'superseded':
      return 'canceled';
    default:
      return 'running';
  }
}

function deploymentStatusFor(release: Release): Exclude<DeploymentStatus, 'created'> {
  const state = commitStatusFor(release);
  return state === 'pending' ? 'running' : state;
}

function describe(release: Release): string {
  const total = planSteps(release.definition).length;
  let text: string;
  if (release.state === 'awaiting-approval') text = `waiting for /canary approve at step ${release.stepIndex + 1}/${total}`;
  else if (isHeld(release)) text = `HELD at step ${release.stepIndex + 1}/${total}, canary ${release.weights.canary} %: /canary abort or /canary resume`;
  else if (isLive(release.state)) {
    text = release.stepIndex >= 0 ? `${release.state}: step ${release.stepIndex + 1}/${total}, canary ${release.weights.canary} %` : release.state;
  } else text = release.reason ?? release.state;
  // GitLab truncates descriptions; keep it one short line.
  return text.replace(/\s+/g, ' ').slice(0, 140);
}

function deploymentFor(release: Release): DesiredWriteback['deployment'] {
  const { name, tier } = deploymentEnvironment(release.definition.environment, release);
  return { environment: name, ...(tier ? { tier } : {}), status: deploymentStatusFor(release) };
}

export function desiredWriteback(release: Release, links: ProgressNoteLinks): DesiredWriteback {
  const publicUrl = links.publicUrl?.replace(/\/+$/, '');
  return {
    releaseId: release.id,
    project: release.definition.trigger.project,
    sha: release.sha,
    ref: release.ref,
    mr: release.mr ? { projectId: release.mr.projectId, iid: release.mr.iid } : null,
    note: release.mr ? renderProgressNote(release, links) : null,
    status: {
      state: commitStatusFor(release),
      name: `canarybot/${release.definition.name}`,
      ...(publicUrl ? { targetUrl: releasePageUrl(publicUrl, release.id) } : {}),
      description: describe(release),
    },
    deployment: deploymentFor(release),
    approvalRequest: approvalRequest(release),
  };
}
