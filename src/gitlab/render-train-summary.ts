// The train summary: one Markdown page for the whole train (members, versions, lane, cohort, each
// member's figures, what happened in order). Each member's MR progress note links to it.

import { describeLane } from '../core/train/lane.js';
import { isTrainLive, type TrainRun } from '../core/train/train-run.js';
import { waitLine } from './render-progress-note.js';

const STATE: Record<string, string> = {
  succeeded: '✅ promoted',
  'rolled-back': '⏪ rolled back',
  aborted: '⏹ aborted',
  failed: '❌ failed',
};

function cohortText(run: TrainRun): string {
  const { entry } = run.train;
  if (entry.kind === 'weight') return `${run.entryWeight}% of ${entry.member}'s requests`;
  return entry.cohort
    .map((block) =>
      [
        ...Object.entries(block.headers ?? {}).map(([name, match]) => `header \`${name}\` ${'exact' in match ? `= ${match.exact}` : 'prefix' in match ? `starts with ${match.prefix}` : `~ ${match.regex}`}`),
        ...Object.entries(block.cookies ?? {}).map(([name, value]) => `cookie \`${name}=${value}\``),
      ].join(' and '),
    )
    .join(' or ');
}

function figure(value: number | null | undefined, unit = ''): string {
  return value === null || value === undefined ? '–' : `${Number.isInteger(value) ? value : value.toFixed(2)}${unit}`;
}

function link(commit: { sha: string; url: string }): string {
  return commit.url ? `[${commit.sha.slice(0, 8)}](${commit.url})` : `\`${commit.sha.slice(0, 8)}\``;
}

/** spec.gitops: each write of the train (one per config repository), with its commit, merge request and revert. */
function gitLines(run: TrainRun): string[] {
  const writes = run.gitops ?? [];
  if (writes.length === 0) return [];
  return [
    '',
    ...writes.map((write) => {
      const parts = [
        `**Git** \`${write.key}\` (${write.members.join(', ')}):`,
        write.commit ? `commit ${link(write.commit)}` : 'not written',
        ...(write.mergeRequest ? [`merge request [!${write.mergeRequest.iid}](${write.mergeRequest.url})`] : []),
        ...(write.revert ? [`reverted by ${link(write.revert)}`] : []),
        ...(write.revertRefused ? [`NOT reverted: ${write.revertRefused}`] : []),
      ];
      return `- ${parts.join(' ')}`;
    }),
  ];
}

/** A member's Git write-back in a sentence: its commit (and revert), for its MR note. */
export function memberGitText(member: TrainRun['members'][number]): string | null {
  const git = member.gitops;
  if (!git) return null;
  if (!git.commit) return git.mergeRequest ? `Git: merge request [!${git.mergeRequest.iid}](${git.mergeRequest.url}) not merged yet` : 'Git: not written yet';
  return `Git: ${link(git.commit)} in \`${String(git.repository)}\`${git.revert ? `, reverted by ${link(git.revert)}` : ''}${git.revertRefused ? `, NOT reverted: ${git.revertRefused}` : ''}`;
}

export function renderTrainSummary(run: TrainRun, time: (at: number) => string = (at) => new Date(at).toISOString()): string {
  const { train } = run;
  const lines = [
    `<!-- canarybot:train:${run.id} -->`,
    `## Release train \`${train.name}\` — ${STATE[run.state] ?? run.state}`,
    '',
    `**Lane:** \`${describeLane(train.lane)}\` · **Cohort:** ${cohortText(run)} at \`${train.entry.member}\` · **Promotion:** ${train.promote === 'ordered' ? 'leaf first' : 'together'}`,
    ...gitLines(run),
    ...(run.wait && isTrainLive(run.state) ? ['', waitLine(run.wait)] : []),
    ...(run.reason ? ['', `**Why:** ${run.reason}`] : []),
    '',
    '| # | member | version | canary | stable | lane requests (last check) | success rate | verdict |',
    '|---|---|---|---|---|---|---|---|',
    ...run.members.map((member, index) => {
      const check = member.lastCheck;
      const rate = check?.measurements.find((measurement) => measurement.name === 'request-success-rate')?.value;
      const version = member.image ? `\`${member.image.split('/').pop()}\`` : 'rides on stable';
      const verdict = check ? `${check.verdict}${check.message ? ` — ${check.message}` : ''}` : '–';
      return `| ${index + 1} | ${member.name}${index === 0 ? ' (entry)' : ''} | ${version} | ${member.canary} | ${member.stable} | ${figure(check?.laneRequests)} | ${figure(rate, ' %')} | ${verdict} |`;
    }),
    '',
    '<details><summary>What happened, in order</summary>',
    '',
    ...run.audit.map((entry) => `- ${time(entry.at)} **${entry.action}**${entry.actor ? ` by @${entry.actor.username}` : ''}${entry.detail ? `: ${entry.detail}` : ''}`),
    '',
    '</details>',
  ];
  return `${lines.join('\n')}\n`;
}
