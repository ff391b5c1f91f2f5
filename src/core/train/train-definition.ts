// The normalized `kind: ReleaseTrain` (DESIGN §4, §10 "Trains"): several ReleasePipelines released
// together, one tagged cohort ("the lane") reaching the new version of every member.

import type { TrafficMatch } from '../definition.js';

/** How a request is tagged as in the lane: the header, or the `canary-lane` key of W3C baggage too. */
export interface LaneSpec {
  /** Lowercase header name, e.g. `x-canary-lane`. */
  header: string;
  /** The header's value for this train (default: the train's name). */
  value: string;
  /** Also match `baggage: …canary-lane=<value>…` (OpenTelemetry propagates baggage by itself). */
  baggage: boolean;
}

/** Who enters the lane at the entry member: requests matching any cohort block, or a share of all. */
export type TrainEntry =
  | { member: string; kind: 'cohort'; cohort: TrafficMatch[] }
  | { member: string; kind: 'weight'; weight: number };

export type TrainStep =
  /** Entry by weight only: the share of the entry's requests put into the lane. */
  | { kind: 'setWeight'; weight: number }
  | { kind: 'pause'; durationMs?: number }
  /** Every member with a canary checked on its own analysis settings, plus the lane itself. */
  | { kind: 'analysis'; durationMs?: number; count?: number }
  | { kind: 'approval' };

export interface TrainAnalysis {
  intervalMs: number;
  count: number;
  failureLimit: number;
  inconclusiveLimit: number;
}

export interface TrainDefinition {
  name: string;
  file?: string;
  /** ReleasePipeline names in call-chain order: the entry first, the leaf last. */
  members: string[];
  lane: LaneSpec;
  entry: TrainEntry;
  steps: TrainStep[];
  analysis: TrainAnalysis;
  /** ordered: members promoted one at a time, leaf first (reverse of `members`); together: all at once. */
  promote: 'ordered' | 'together';
  /** Pipelines of the members' projects that succeed within this of each other start the train. */
  assembleWindowMs: number;
}

/** The W3C baggage key that carries the lane (`baggage: canary-lane=<value>`). */
export const BAGGAGE_KEY = 'canary-lane';
