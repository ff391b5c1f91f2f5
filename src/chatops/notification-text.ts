import type { ReleaseEventKind } from '../core/effect.js';
import type { Measurement } from '../core/gate.js';
import { latestJudge } from '../core/judge/latest-judge.js';
import type { Release } from '../core/release.js';
import { releasePageUrl } from '../core/release-links.js';

/** The events a channel hears about; the rest (steps, progress, pauses) live in the MR note. */
export const NOTIFIED_EVENTS: readonly ReleaseEventKind[] = [
  'started',
  'approval-needed',
  'gate-failed',
  'rolled-back',
  'aborted',
  'failed',
  'superseded',
  'promoted',
  'waiting',
  'held',
];

/**
 * The event a channel hears about. The core announces a failed gate as `rolling-back` (with the
 * figure in `reason`), so a rollback that a non-passing check of the current step caused is told
 * as `gate-failed`; other rollbacks are told when they end (`rolled-back`, `aborted`).
 */
export function announcedEvent(release: Release, event: ReleaseEventKind): ReleaseEventKind | null {
  if (event === 'rolling-back') return causedByGate(release) ? 'gate-failed' : null;
  return NOTIFIED_EVENTS.includes(event) ? event : null;
}

function causedByGate(release: Release): boolean {
  const last = release.gates.at(-1);
  if (!last || last.stepIndex !== release.stepIndex || last.check.verdict === 'pass' || !release.reason) return false;
  const reason = release.reason;
  return last.check.measurements.some((m) => m.verdict !== 'pass' && reason.includes(m.name.replace(/^webhook:/, '')));
}

export interface NotificationContext {
  /** Slack mrkdwn (`*bold*`, `<url|text>`) or Mattermost markdown (`**bold**`, `[text](url)`). */
  flavor: 'slack' | 'mattermost';
  /** PUBLIC_URL, for a link to the release record. */
  publicUrl?: string;
}

/** The chat message for a release event, or null for events channels do not hear about. */
export function notificationText(release: Release, event: ReleaseEventKind, context: NotificationContext): string | null {
  const bold = (text: string): string => (context.flavor === 'slack' ? `*${text}*` : `**${text}**`);
  const anchor = (url: string, text: string): string => (context.flavor === 'slack' ? `<${url}|${text}>` : `[${text}](${url})`);
  const name = `${bold(release.service)} (${release.namespace} on ${release.cluster})`;
  const link = context.publicUrl ? ` ${anchor(releasePageUrl(context.publicUrl, release.id), 'details')}` : '';
  const mr = release.mr?.url ? ` for MR ${anchor(release.mr.url, `!${release.mr.iid}`)}` : release.mr ? ` for MR !${release.mr.iid}` : '';
  switch (event) {
    case 'started':
      return `:rocket: Release of ${name} started: \`${release.image}\`${mr}.${link}`;
    case 'approval-needed':
      return `:raised_hand: ${name} is waiting for approval at step ${release.stepIndex + 1} (canary at ${release.weights.canary} %).${judgeScore(release)} Type \`/canary approve ${release.service}\` to continue or \`/canary abort ${release.service}\` to roll back.${link}`;
    case 'gate-failed':
      return `:x: A gate failed for ${name} at step ${release.stepIndex + 1}: ${failedFigures(release)}.${link}`;
    case 'rolled-back':
      return `:rewind: ${name} was rolled back to stable${because(release)}.${judgeScore(release)}${link}`;
    case 'aborted':
      return `:octagonal_sign: ${name} was aborted and rolled back to stable${because(release)}.${link}`;
    case 'failed':
      return `:warning: Release of ${name} failed${because(release)}.${link}`;
    case 'superseded':
      return `:fast_forward: Release of ${name} (\`${release.image}\`) was superseded by a newer image.${link}`;
    case 'promoted':
      return `:white_check_mark: ${name} promoted: \`${release.image}\` is now stable.${gitopsCommit(release)}${judgeScore(release)}${link}`;
    case 'held':
      return `:octagonal_sign: ${bold('HELD')}: ${name} at step ${release.stepIndex + 1} with the canary at ${release.weights.canary} %, not rolled back${because(release)}. ` +
        `Type \`/canary resume ${release.service}\` to go on or \`/canary abort ${release.service}\` to roll back` +
        `${release.wait?.until != null ? `; it rolls back by itself at ${new Date(release.wait.until).toISOString().slice(11, 16)} UTC` : ''}.${approvers(release)}${link}`;
    case 'waiting':
      return release.wait ? `:hourglass: ${name}: ${waitText(release.wait)}${link}` : null;
    default:
      return null;
  }
}

/** spec.gitops: the commit that holds the promotion in Git (short sha linked). */
function gitopsCommit(release: Release): string {
  const commit = release.gitops?.commit;
  return commit ? ` Git: <${commit.url}|${commit.sha.slice(0, 8)}> in ${String(release.gitops!.repository)}.` : '';
}

/** The approvers named in the definition, @-mentioned so a hold reaches them. */
function approvers(release: Release): string {
  const { users, groups } = release.definition.approvals;
  const names = [...users, ...groups].map((name) => `@${name}`);
  return names.length > 0 ? ` ${names.join(' ')}` : '';
}

/** ` Judge score 100 (pass >= 95, marginal >= 75) against reviews-baseline.` when the release was judged. */
function judgeScore(release: Release): string {
  const latest = latestJudge(release);
  if (!latest || latest.measurement.value === null) return '';
  const { judge } = latest.measurement;
  return ` Judge score ${judge.score} (pass >= ${judge.thresholds.pass}, marginal >= ${judge.thresholds.marginal}) against ${judge.against}.`;
}

/** A release's wait, said generically: its sentence, until when, and its link. */
export function waitText(wait: NonNullable<Release['wait']>): string {
  const until = wait.until != null ? ` (until ${new Date(wait.until).toISOString()})` : '';
  const link = wait.link ? ` ${wait.link}` : '';
  return `${wait.sentence.replace(/\.$/, '')}${until}.${link}`;
}

function because(release: Release): string {
  return release.reason ? `: ${release.reason.replace(/\.$/, '')}` : '';
}

/** The figures of the latest failing check against their thresholds, e.g. `request-success-rate 91.2 (threshold >= 99)`. */
function failedFigures(release: Release): string {
  const failing = [...release.gates].reverse().find((g) => g.check.verdict !== 'pass');
  const bad = failing?.check.measurements.filter((m) => m.verdict !== 'pass') ?? [];
  if (bad.length === 0) return release.reason ?? 'no figures recorded';
  return bad.map(figure).join('; ');
}

function figure(m: Measurement): string {
  if (m.judge && m.message) return `judge ${m.message}`;
  const value = m.value === null ? 'no data' : String(Math.round(m.value * 1000) / 1000);
  return `${m.name} ${value} (threshold ${m.threshold}, ${m.verdict})`;
}
