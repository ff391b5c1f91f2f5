import type { TrafficMatch } from './definition.js';

/** Route weights in percent; always integers that sum to 100. */
export interface Weights {
  stable: number;
  canary: number;
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
  /** Blue/green preview: requests with this header reach the canary (null = no preview route). */
  preview: { header: string; value: string } | null;
}

export const ALL_STABLE: TrafficState = {
  weights: { stable: 100, canary: 0 },
  mirrorPercent: 0,
  abMatch: null,
  preview: null,
};
