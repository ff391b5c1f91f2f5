// The release's progress note on the MR, as Markdown. Pure: a Release record and the links config
// in, text out. Nothing secret is on a Release, and the renderer only reads names, figures and
// usernames from it (never queries, webhook URLs or bodies).

import { renderGitOpsSection } from './render-gitops.js';
import { isHeld } from '../core/decide/hold-wait.js';
import { formatDuration } from '../core/duration.js';
import { describeMetric, planSteps, type PlannedStep } from '../core/plan.js';
import type { Measurement } from '../core/gate.js';
import { isLive, type Release, type ReleaseState } from '../core/release.js';
import { releasePageUrl } from '../core/release-links.js';
import { renderJudgeSection } from './render-judge.js';
import { renderProgressChart } from './render-progress-chart.js';

export interface ProgressNoteLinks {
  /** PUBLIC_URL: the bot's own address, for the dashboard's `/releases/<id>` page. */
  publicUrl?: string;
  grafanaUrl?: string;
  jaegerUrl?: string;
}

/** The hidden marker by which the bot finds its note again (DESIGN §7). */
export function progressNoteMarker(releaseId: string): string {
  return `<!-- canarybot:release:${releaseId.replace(/[^A-Za-z0-9_.:-]/g, '_')} -->`;
}

const STATE_LABEL: Record<ReleaseState, string> = {
  pending: '⏳ pending',
  deploying: '🚚 deploying the canary',
  progressing: '🐤 progressing',
  paused: '⏸️ paused',
  'awaiting-approval': '🙋 awaiting approval',
  promoting: '🚀 promoting',
  'rolling-back': '↩️ rolling back',
  succeeded: '✅ promoted',
  'rolled-back': '⏪ rolled back',
  failed: '❌ failed',
  superseded: '⏭️ superseded',
  aborted: '🛑 aborted',
};

/** Table cells: no pipes or line breaks from data may break the table. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

function figure(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'no data';
  return String(Math.round(value * 1000) / 1000);
}

function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

function action(planned: PlannedStep): string {
  const step = planned.step;
  switch (step.kind) {
    case 'setWeight':
      return `set canary weight to ${step.weight} %`;
    case 'setMirror':
      return `mirror ${step.percent} % of traffic`;
    case 'pause':
      return step.durationMs === undefined ? 'pause until `/canary resume`' : `pause ${formatDuration(step.durationMs)}`;
    case 'analysis':
      return planned.gates[0]?.replace(/ \(.*\)$/, '') ?? 'analysis';
    case 'approval':
      return 'approval';
    case 'webhook':
      return `webhook ${step.name}`;
  }
}

const VERDICT: Record<string, string> = { pass: '✅', fail: '❌', inconclusive: '❔', error: '⚠️' };

function measurementText(m: Measurement): string {
  return `${m.name} ${figure(m.value)} (${m.threshold}) ${VERDICT[m.verdict] ?? m.verdict}`;
}

function gateCell(release: Release, planned: PlannedStep): string {
  const records = release.gates.filter((g) => g.stepIndex === planned.index);
  const last = records.at(-1);
  if (!last) {
    if (planned.step.kind !== 'analysis') return '—';
    const metrics = planned.step.metrics ?? release.definition.analysis.metrics;
    return metrics.map(describeMetric).join('<br>') || '—';
  }
  const counts = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  for (const r of records) counts[r.check.verdict] += 1;
  const summary = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([verdict, n]) => `${n} ${verdict}`)
    .join(', ');
  return [...last.check.measurements.map(measurementText), `checks: ${summary}`].join('<br>');
}

function stepMark(release: Release, index: number): string {
  if (release.state === 'succeeded' || index < release.stepIndex) return '✅';
  if (index > release.stepIndex) return '·';
  if (isLive(release.state)) {
    if (release.state === 'paused') return '⏸️';
    if (release.state === 'awaiting-approval') return '🙋';
    if (release.state === 'rolling-back') return '↩️';
    return '⏳';
  }
  return release.state === 'failed' || release.state === 'rolled-back' ? '❌' : '⏹️';
}

/** When each step began, from the audit, gate and approval records (the record keeps no per-step clock). */
function stepStarts(release: Release): Map<number, number> {
  const starts = new Map<number, number>();
  const see = (index: number | null, at: number): void => {
    if (index === null || index < 0) return;
    const known = starts.get(index);
    if (known === undefined || at < known) starts.set(index, at);
  };
  for (const entry of release.audit) see(entry.stepIndex, entry.at);
  for (const gate of release.gates) see(gate.stepIndex, gate.check.at);
  for (const approval of release.approvals) see(approval.stepIndex, approval.at);
  if (release.stepIndex >= 0) starts.set(release.stepIndex, release.stepStartedAt);
  return starts;
}

function durationCell(release: Release, index: number, starts: Map<number, number>): string {
  const start = starts.get(index);
  if (start === undefined || index > release.stepIndex) return '—';
  const later = [...starts.entries()].filter(([i]) => i > index).map(([, at]) => at);
  const end = later.length > 0 ? Math.min(...later) : (release.endedAt ?? release.updatedAt);
  return end >= start ? formatDuration(end - start) : '—';
}

function approvalCell(release: Release, index: number): string {
  const approvals = release.approvals.filter((a) => a.stepIndex === index);
  if (approvals.length === 0) return '—';
  return approvals.map((a) => `${code(a.actor.username)} at ${clock(a.at)}`).join('<br>');
}

function weightCell(planned: PlannedStep): string {
  const { weights, mirrorPercent } = planned.traffic;
  return mirrorPercent > 0 ? `${weights.canary} % (+${mirrorPercent} % mirrored)` : `${weights.canary} %`;
}

/** The measurement behind a failure (first non-pass figure of the last check), unless the reason already names it. */
function failingFigure(release: Release, reason: string): string | null {
  const last = release.gates.at(-1);
  const m = last?.check.measurements.find((x) => x.verdict !== 'pass');
  if (!m || (reason.includes(m.name) && reason.includes(figure(m.value)))) return null;
  return `${code(m.name)} was ${figure(m.value)} against ${m.threshold}${m.stableValue !== undefined && m.stableValue !== null ? ` (stable: ${figure(m.stableValue)})` : ''}`;
}

function approvalRequest(release: Release): string {
  const policy = release.definition.approvals;
  const who = [`GitLab access level ${policy.minAccessLevel} or higher`];
  // No @-mentions here: every edit of this note would ping them; the approval request note does.
  if (policy.users.length > 0) who.push(`users ${policy.users.map((u) => code(u)).join(', ')}`);
  if (policy.groups.length > 0) who.push(`members of ${policy.groups.map((g) => code(g)).join(', ')}`);
  const author = policy.allowAuthor ? 'the MR author may approve' : 'the MR author may not approve their own release';
  return [
    `> **🙋 Approval needed** for step ${release.stepIndex + 1} (canary at ${release.weights.canary} %).`,
    '> To continue, comment on this merge request:',
    '>',
    '> ```',
    '> /canary approve',
    '> ```',
    `> Who may approve: ${who.join('; ')}; ${author}. \`/canary abort\` rolls back.`,
  ].join('\n');
}

/** When promotion began, while the release promotes or once it is promoted (a rollback during promotion is no promotion). */
function promotionStart(release: Release): number | null {
  if (release.state !== 'promoting' && release.state !== 'succeeded') return null;
  return release.audit.findLast((entry) => entry.action === 'promoting')?.at ?? null;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function linkLines(release: Release, links: ProgressNoteLinks): string[] {
  const out: string[] = [];
  const from = release.createdAt;
  const to = release.endedAt ?? release.updatedAt;
  if (links.publicUrl) out.push(`[Release page](${releasePageUrl(links.publicUrl, release.id)})`);
  if (links.grafanaUrl) {
    const q = new URLSearchParams({
      'var-namespace': release.namespace,
      'var-service': release.service,
      'var-workload': release.definition.target.canary.deployment,
      from: String(from),
      to: String(to),
    });
    out.push(`[Grafana](${trimSlash(links.grafanaUrl)}/?${q.toString()})`);
  }
  if (links.jaegerUrl) {
    const q = new URLSearchParams({
      service: `${release.definition.target.canary.deployment}.${release.namespace}`,
      start: String(from * 1000),
      end: String(to * 1000),
    });
    out.push(`[Jaeger](${trimSlash(links.jaegerUrl)}/search?${q.toString()})`);
  }
  return out;
}

/** Why the release stands still, said generically (sentence, until, link) whatever set it. */
export function waitLine(wait: NonNullable<Release['wait']>): string {
  const until = wait.until != null ? ` Until ${clock(wait.until)}.` : '';
  const link = wait.link ? ` [Details](${wait.link})` : '';
  return `> ⏳ **Waiting since ${clock(wait.since)}:** ${wait.sentence.replace(/\r?\n/g, ' ')}${until}${link}`;
}

const HELD_LABEL = '🛑 HELD — waiting for a decision';

/** A held release must not be missed: a banner above everything with the why, the traffic and the deadline. */
function heldBanner(release: Release): string {
  const until = release.wait?.until != null ? ` With no decision it rolls back by itself at **${clock(release.wait.until)}**.` : '';
  return [
    '> ## 🛑 HELD: a gate failed and the traffic was NOT rolled back',
    `> **Why:** ${(release.reason ?? 'a gate failed').replace(/\r?\n/g, ' ')}`,
    `> **Traffic now:** stable ${release.weights.stable} % · canary ${release.weights.canary} % (held since ${clock(release.wait?.since ?? release.updatedAt)})`,
    `> Comment \`/canary abort\` to roll back, or \`/canary resume\` to go on.${until}`,
  ].join('\n');
}

export function renderProgressNote(release: Release, links: ProgressNoteLinks = {}): string {
  const plan = planSteps(release.definition);
  const starts = stepStarts(release);
  const parts: string[] = [progressNoteMarker(release.id)];

  const held = isHeld(release);
  parts.push(`### canarybot · ${code(release.service)} · ${held ? HELD_LABEL : STATE_LABEL[release.state]}`);
  if (held) parts.push(heldBanner(release));
  const facts = [
    '| | |',
    '|---|---|',
    `| Service | ${code(release.service)} in ${code(`${release.cluster}/${release.namespace}`)} |`,
    `| Image | ${code(release.image)} |`,
    `| State | ${held ? HELD_LABEL : STATE_LABEL[release.state]}${release.attempt > 1 ? ` (attempt ${release.attempt})` : ''} |`,
    `| Commit | ${code(release.sha.slice(0, 8))}${release.pipeline ? ` · pipeline ${release.pipeline.url ? `[#${release.pipeline.id}](${release.pipeline.url})` : `#${release.pipeline.id}`}` : ''} |`,
    `| Traffic | stable ${release.weights.stable} % · canary ${release.weights.canary} %${release.weights.baseline !== undefined ? ` · baseline ${release.weights.baseline} %` : ''} |`,
  ];
  parts.push(facts.join('\n'));

  if (release.reason && !isLive(release.state) && release.state !== 'succeeded') {
    const fig = failingFigure(release, release.reason);
    parts.push(`**Why:** ${release.reason.replace(/\r?\n/g, ' ')}${fig ? `\n\n**Figure:** ${fig}.` : ''}`);
  } else if (release.reason && release.state === 'rolling-back') {
    parts.push(`**Rolling back:** ${release.reason.replace(/\r?\n/g, ' ')}`);
  }
  if (release.wait && isLive(release.state) && !held) parts.push(waitLine(release.wait));
  if (release.state === 'awaiting-approval') parts.push(approvalRequest(release));
  if (release.state === 'paused' && !held) parts.push('> ⏸️ Paused. Comment `/canary resume` to continue or `/canary abort` to roll back.');

  const rows = plan.map((planned) =>
    [
      String(planned.index + 1),
      stepMark(release, planned.index),
      cell(action(planned)),
      weightCell(planned),
      cell(gateCell(release, planned)),
      cell(approvalCell(release, planned.index)),
      durationCell(release, planned.index, starts),
    ].join(' | '),
  );
  parts.push(
    ['| # | | Action | Weight | Gate (value, threshold, verdict) | Approved by | Duration |', '|---|---|---|---|---|---|---|']
      .concat(rows.map((r) => `| ${r} |`))
      .join('\n'),
  );

  const judge = renderJudgeSection(release);
  if (judge) parts.push(judge);

  const gitops = renderGitOpsSection(release);
  if (gitops) parts.push(gitops);

  const chart = renderProgressChart(release.timeline, promotionStart(release));
  if (chart) parts.push(chart);

  const linkLine = linkLines(release, links);
  if (linkLine.length > 0) parts.push(linkLine.join(' · '));
  parts.push(`<sub>Updated ${new Date(release.updatedAt).toISOString().replace('.000Z', 'Z')} · release ${code(release.id)}</sub>`);
  return `${parts.join('\n\n')}\n`;
}
