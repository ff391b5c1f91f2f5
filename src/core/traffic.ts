import type { TrafficMatch } from './definition.js';

/** Route weights in percent; always integers that sum to 100. */
export interface Weights {
  stable: number;
  canary: number;
  /**
   * With `target.baseline`: the baseline's weight, the canary's own while the canary has at most
   * 50 % (a switch past that is a cut-over and ends the comparison: 0). Absent: no baseline route.
   */
  baseline?: number;
}

/** Weights for a canary at `canary` %: the baseline (when there is one) takes as much, stable the rest. */
export function weightsFor(canary: number, withBaseline: boolean): Weights {
  if (!withBaseline) return { stable: 100 - canary, canary };
  const baseline = canary <= 50 ? canary : 0;
  return { stable: 100 - canary - baseline, canary, baseline };
}

/**
 * Everything canarybot controls on the managed route, in mesh-neutral terms. The mesh adapter turns
 * it into VirtualService edits; `canarybot plan` renders the same thing.
 */
export interface TrafficState {
  weights: Weights;
  /** Share of live traffic copied to the canary (0 = no mirror). */
  mirrorPercent: number;
  /** A/B: requests matching any block go to the canary (null = no A/B route). */
  abMatch: TrafficMatch[] | null;
  /**
   * Blue/green preview: requests with this header reach the canary (null = no preview route). With a
   * baseline, the A/B and preview routes split their requests evenly between canary and baseline,
   * and a mirror copies the same share to both.
   */
  preview: { header: string; value: string } | null;
  /**
   * Release trains: requests matching any block (the lane, or at the entry the cohort) go to the
   * canary, on a route of canarybot's own ahead of the managed route; with `setHeader` that route
   * also sets the lane header on what it sends, so the next service sees the request in the lane.
   * Absent or null: no lane route.
   */
  lane?: LaneRoute | null;
  /** Release trains, entry by weight: the canary's share of the managed route gets this header set. */
  tagCanary?: { name: string; value: string } | null;
}

export interface LaneRoute {
  match: TrafficMatch[];
  setHeader: { name: string; value: string } | null;
  /** Where lane requests go: the canary, or stable when this service rides along without a new image. Default canary. */
  to?: 'canary' | 'stable';
}

export const ALL_STABLE: TrafficState = {
  weights: { stable: 100, canary: 0 },
  mirrorPercent: 0,
  abMatch: null,
  preview: null,
};
