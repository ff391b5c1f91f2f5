// A train as one unit in chat: its state and step, each member's version, canary and last lane
// check, and why it ended.

import { describeLane } from '../core/train/lane.js';
import { isTrainLive, type TrainEventKind, type TrainRun } from '../core/train/train-run.js';
import { waitText } from './notification-text.js';
import { describeTrainStep } from '../core/train/train-phases.js';

export function trainLine(run: TrainRun): string {
  const steps = run.train.steps.length;
  const step = run.stepIndex >= 0 && run.stepIndex < steps ? `, step ${run.stepIndex + 1}/${steps} (${describeTrainStep(run.train.steps[run.stepIndex]!)})` : '';
  return `🚂 train \`${run.train.name}\` ${run.state}${step} — run ${run.id}`;
}

/** `/canary train status <train>` and the train's chat notifications. */
export function trainStatus(run: TrainRun): string {
  const lines = [trainLine(run), `Lane: ${describeLane(run.train.lane)} · entry ${run.train.entry.member}`];
  for (const member of run.members) {
    const version = member.image ? `\`${member.image.split('/').pop()}\`` : 'rides on stable';
    const check = member.lastCheck;
    const figures = check
      ? ` · last check ${check.verdict}, ${check.laneRequests ?? 'unknown'} lane requests${check.message ? ` — ${check.message}` : ''}`
      : '';
    lines.push(`• ${member.name} ${version} · canary ${member.canary}, stable ${member.stable}${figures}`);
  }
  if (run.reason) lines.push(`Reason: ${run.reason}`);
  if (run.wait && isTrainLive(run.state)) lines.push(`⏳ ${waitText(run.wait)}`);
  else if (run.state === 'awaiting-approval') lines.push(`Waiting for \`/canary train approve ${run.train.name}\` (or promote/abort).`);
  return lines.join('\n');
}

const ANNOUNCED: Partial<Record<TrainEventKind, string>> = {
  started: 'started',
  'approval-needed': 'is waiting for approval',
  'rolling-back': 'is rolling back',
  succeeded: 'promoted',
  'rolled-back': 'rolled back',
  aborted: 'aborted',
  failed: 'FAILED',
};

/** The chat notification of a train event (the events worth a message), or null. */
export function trainNotification(run: TrainRun, event: TrainEventKind): { slack: string; mattermost: string } | null {
  const what = ANNOUNCED[event];
  if (!what) return null;
  const members = run.members.map((member) => `${member.name} ${member.image ? member.image.split('/').pop() : '(stable)'}`).join(', ');
  const tail = [
    `Members: ${members}`,
    ...(run.reason && event !== 'started' && event !== 'approval-needed' ? [`Reason: ${run.reason}`] : []),
    ...(event === 'approval-needed' ? [`\`/canary train approve ${run.train.name}\` (or promote/abort)`] : []),
  ].join('\n');
  return {
    slack: `:steam_locomotive: Release train *${run.train.name}* ${what} (run ${run.id})\n${tail}`,
    mattermost: `:steam_locomotive: Release train **${run.train.name}** ${what} (run ${run.id})\n${tail}`,
  };
}
