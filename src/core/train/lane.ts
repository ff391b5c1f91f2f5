// The lane's Istio match blocks: the lane header, or (with `baggage: true`) the W3C `baggage` header
// carrying `canary-lane=<value>` among its members. Envoy matches a regex against the whole value.

import type { TrafficMatch } from '../definition.js';
import { BAGGAGE_KEY, type LaneSpec } from './train-definition.js';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `baggage` is a comma-separated list of `key=value` members, each with optional `;properties`
 * and optional whitespace around the separators (W3C Baggage §3.3.1).
 */
export function baggageRegex(value: string): string {
  return `^(.*,)?[ \\t]*${escapeRegex(BAGGAGE_KEY)}[ \\t]*=[ \\t]*${escapeRegex(value)}[ \\t]*(;[^,]*)?(,.*)?$`;
}

export function laneMatch(lane: LaneSpec): TrafficMatch[] {
  const blocks: TrafficMatch[] = [{ headers: { [lane.header]: { exact: lane.value } } }];
  if (lane.baggage) blocks.push({ headers: { baggage: { regex: baggageRegex(lane.value) } } });
  return blocks;
}

/** `x-canary-lane: bookinfo-v2` (or baggage `canary-lane=bookinfo-v2`) for messages. */
export function describeLane(lane: LaneSpec): string {
  return `${lane.header}: ${lane.value}${lane.baggage ? ` (or baggage ${BAGGAGE_KEY}=${lane.value})` : ''}`;
}
