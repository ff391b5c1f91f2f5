// Assembling a train from pipelines: each member's successful pipeline brings its new image; when
// every member has one from within `assembleWindow` of each other, the train starts with them. A
// member's image older than the window (counted back from the newest arrival) has dropped out.

import type { MergeRequestRef } from '../release.js';
import type { TrainDefinition } from './train-definition.js';
import type { TrainMemberStart } from './train-run.js';

/** One member's pipeline as the assembly keeps it. */
export interface AssemblyEntry {
  image: string;
  sha: string;
  mr: MergeRequestRef | null;
  pipelineId: number | null;
  /** When the pipeline reached the bot. */
  at: number;
}

export type AssemblyOutcome =
  | { kind: 'complete'; starts: Record<string, TrainMemberStart> }
  | { kind: 'waiting'; entries: Record<string, AssemblyEntry>; missing: string[]; until: number };

/** The entries still inside the window at `now`. */
export function freshEntries(train: TrainDefinition, entries: Readonly<Record<string, AssemblyEntry>>, now: number): Record<string, AssemblyEntry> {
  return Object.fromEntries(Object.entries(entries).filter(([member, entry]) => train.members.includes(member) && entry.at >= now - train.assembleWindowMs));
}

/** The assembly after `member`'s pipeline arrived: complete (every member has an image), or what it still waits for and until when. */
export function assemble(train: TrainDefinition, entries: Readonly<Record<string, AssemblyEntry>>, member: string, entry: AssemblyEntry): AssemblyOutcome {
  const fresh = { ...freshEntries(train, entries, entry.at), [member]: entry };
  const missing = train.members.filter((name) => !fresh[name]);
  if (missing.length === 0) {
    const starts = Object.fromEntries(Object.entries(fresh).map(([name, { image, sha, mr }]) => [name, { image, sha, mr }]));
    return { kind: 'complete', starts };
  }
  const oldest = Math.min(...Object.values(fresh).map((candidate) => candidate.at));
  return { kind: 'waiting', entries: fresh, missing, until: oldest + train.assembleWindowMs };
}

/** The sentence for a member's pipeline that joined an assembly still waiting. */
export function describeWaiting(train: TrainDefinition, outcome: Extract<AssemblyOutcome, { kind: 'waiting' }>, time: (at: number) => string): string {
  const have = Object.entries(outcome.entries).map(([name, entry]) => `${name}=${tagOf(entry.image)}`);
  return (
    `train ${train.name} is assembling: ${have.join(', ')}; waiting for ${outcome.missing.join(', ')} until ${time(outcome.until)} ` +
    `(to start now, the others riding on stable: \`/canary train start ${train.name} ${have.join(' ')}\`)`
  );
}

export function tagOf(image: string): string {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : image;
}
