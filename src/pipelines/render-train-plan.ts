// `canarybot plan <train>`: what a release train would do, in the order it does it.

import type { Definition } from '../core/definition.js';
import { formatDuration } from '../core/decide/describe.js';
import { describeLane } from '../core/train/lane.js';
import type { TrainDefinition, TrainStep } from '../core/train/train-definition.js';
import { entryWeights } from '../core/train/train-traffic.js';
import { describeMatch } from './render-plan.js';

function describeTrainStep(step: TrainStep, analysisIntervalMs: number, count: number): string {
  switch (step.kind) {
    case 'setWeight':
      return `cohort: ${step.weight}% of the entry's requests`;
    case 'pause':
      return step.durationMs === undefined ? 'pause (until resumed)' : `pause ${formatDuration(step.durationMs)}`;
    case 'analysis': {
      const checks = step.durationMs !== undefined ? Math.max(1, Math.ceil(step.durationMs / analysisIntervalMs)) : (step.count ?? count);
      return `analysis ×${checks}, every ${formatDuration(analysisIntervalMs)}: each member's own metrics on lane traffic, and lane traffic reaching every canary`;
    }
    case 'approval':
      return 'approval (/canary approve on any member, or in chat)';
  }
}

function describeEntry(train: TrainDefinition): string {
  const { entry } = train;
  if (entry.kind === 'cohort') return `${entry.member}: requests with ${entry.cohort.map(describeMatch).join(' or ')} enter the lane (tagged ${train.lane.header}: ${train.lane.value})`;
  return `${entry.member}: ${entry.weight}% of its requests enter the lane (tagged ${train.lane.header}: ${train.lane.value})`;
}

/** spec.gitops members: the train's Git write, one commit (or merge request) per config repository and branch. */
function gitOpsLines(members: ReadonlyArray<Definition | undefined>, index: number): string[] {
  const writes = new Map<string, { names: string[]; mergeRequest: boolean }>();
  for (const definition of members) {
    const spec = definition?.gitops;
    if (!definition || !spec) continue;
    const key = `${String(spec.repository)}@${spec.branch ?? '(default branch)'}`;
    const write = writes.get(key) ?? { names: [], mergeRequest: false };
    write.names.push(definition.name);
    write.mergeRequest ||= spec.via === 'merge-request';
    writes.set(key, write);
  }
  if (writes.size === 0) return [];
  const each = [...writes.entries()].map(([key, write]) => `${write.mergeRequest ? 'one merge request' : 'one commit'} in ${key} for ${write.names.join(', ')}`);
  return [`  ${index}. Git first, every pin re-read (one changed since pre-flight refuses the train, nothing written): ${each.join('; ')}`];
}

export function renderTrainPlan(train: TrainDefinition, definitions: readonly Definition[]): string {
  const members = train.members.map((name) => definitions.find((definition) => definition.name === name));
  const first = members[0];
  const weights = entryWeights(train);
  const leafFirst = [...train.members].reverse();
  const behind = train.members.slice(1);
  const width = Math.max(...train.members.map((name) => name.length));
  const git = gitOpsLines(members, train.steps.length + 4);
  const out = [
    `${train.name}: release train of ${train.members.length} members${train.file ? ` (${train.file})` : ''}`,
    `lane:   ${describeLane(train.lane)}`,
    `entry:  ${describeEntry(train)}`,
    `starts: when pipelines of every member's project succeed within ${formatDuration(train.assembleWindowMs)} of each other, or /canary train start ${train.name} [member=tag …]`,
    `target: ${first ? `${first.target.clusters.join(', ')} / ${first.target.namespace}` : '?'}`,
    '',
    'members (the call chain, entry first):',
    ...train.members.map((name, index) => {
      const definition = members[index];
      const where = definition
        ? `VirtualService ${definition.target.virtualService}, canary ${definition.target.canary.deployment} (subset ${definition.target.canary.subset})`
        : 'no such ReleasePipeline';
      return `  ${index + 1}. ${name.padEnd(width)}  ${where}${index === 0 ? '  [entry]' : ''}`;
    }),
    '',
    'order:',
    `  1. deploy the new image to the canary of every member that has one; wait until all are ready (a member without a new image rides on stable: no canary, no lane route)`,
    `  2. add the lane routes (lane requests → canary subset, ahead of the default route): ${behind.join(', ')}`,
    `  3. open the entry at ${train.entry.member}`,
    ...train.steps.map((step, index) => {
      const cohort = train.entry.kind === 'weight' && step.kind !== 'setWeight' ? ` [cohort ${weights[index]}%]` : '';
      return `  ${index + 4}. ${describeTrainStep(step, train.analysis.intervalMs, train.analysis.count)}${cohort}`;
    }),
    ...git,
    `  ${train.steps.length + 4 + git.length}. promote ${train.promote === 'ordered' ? `one member at a time, leaf first: ${leafFirst.join(', ')}` : `every member at once`}${git.length > 0 ? ' (a member with spec.gitops.sync: its controller applying the commit)' : ''}; close the entry, then remove the lane routes last`,
    '',
    'on a failed gate, a firing alert or an abort on any member: the whole train rolls back —',
    `  close the entry (${train.entry.member}'s cohort back to stable) → remove the lane routes${git.length > 0 ? ' → revert each Git commit that landed (one per repository, never over a human\'s later value)' : ''} → scale every canary down`,
    `a member whose canary gets no lane traffic while the entry's does is inconclusive: "not propagating ${train.lane.header}" (never healthy)`,
  ];
  return `${out.join('\n')}\n`;
}
