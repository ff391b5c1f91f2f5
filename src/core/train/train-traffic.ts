// What a train puts on each member's managed route, in mesh-neutral terms (TrafficState). The train
// core writes these and `canarybot plan` renders them, so the dry run and the run cannot disagree.

import { ALL_STABLE, type TrafficState } from '../traffic.js';
import { laneMatch } from './lane.js';
import type { TrainDefinition } from './train-definition.js';

/** A member behind the entry with its lane route: lane requests → its canary, the rest as before. */
export function laneTraffic(train: TrainDefinition): TrafficState {
  return { ...ALL_STABLE, weights: { ...ALL_STABLE.weights }, lane: { match: laneMatch(train.lane), setHeader: null } };
}

/**
 * The entry member with the entry open: the cohort (or a share of everyone, by weight) and requests
 * already in the lane go to its canary, which sees them tagged with the lane header.
 */
export function entryTraffic(train: TrainDefinition, weight: number): TrafficState {
  const tag = { name: train.lane.header, value: train.lane.value };
  const lane = laneMatch(train.lane);
  if (train.entry.kind === 'cohort') {
    return { ...ALL_STABLE, weights: { ...ALL_STABLE.weights }, lane: { match: [...train.entry.cohort, ...lane], setHeader: tag } };
  }
  const canary = Math.min(100, Math.max(0, Math.round(weight)));
  return { ...ALL_STABLE, weights: { stable: 100 - canary, canary }, lane: { match: lane, setHeader: tag }, tagCanary: tag };
}

/** All on stable, no lane route: a member at rest, or a closed entry. */
export function restTraffic(): TrafficState {
  return { ...ALL_STABLE, weights: { ...ALL_STABLE.weights } };
}

/** The cohort size each train step runs with (entry by weight: the last setWeight so far). */
export function entryWeights(train: TrainDefinition): number[] {
  let weight = train.entry.kind === 'weight' ? train.entry.weight : 0;
  return train.steps.map((step) => {
    if (step.kind === 'setWeight') weight = step.weight;
    return weight;
  });
}
