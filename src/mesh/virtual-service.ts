// The desired VirtualService for a traffic state: pure, shared by the router and `canarybot plan`.
// Only the managed route and canarybot's own extra routes change; everything else is carried over.

import { CanarybotError } from '../core/errors.js';
import type { TrafficState } from '../core/traffic.js';
import { combineMatches, istioConditions } from './istio-match.js';
import { deepEqual } from './deep-equal.js';
import type {
  Destination,
  HttpRoute,
  ManagedRouteRef,
  RouteDestination,
  VirtualServiceObject,
} from './virtual-service-types.js';

export type { ManagedRouteRef, VirtualServiceObject } from './virtual-service-types.js';

/** Fields of the managed route that canarybot's extra routes do not copy. */
const NOT_COPIED = new Set(['name', 'match', 'route', 'mirror', 'mirrorPercentage', 'mirrorPercent', 'mirror_percent', 'mirrors']);

export function abRouteName(service: string): string {
  return `canarybot-${service}-ab`;
}

export function previewRouteName(service: string): string {
  return `canarybot-${service}-preview`;
}

/** A release train's lane route (or, at the entry, its cohort route). */
export function laneRouteName(service: string): string {
  return `canarybot-${service}-lane`;
}

function pointsAt(destination: Destination | undefined, host: string): boolean {
  if (!destination || typeof destination.host !== 'string') return false;
  const other = destination.host;
  return other === host || other.startsWith(`${host}.`) || host.startsWith(`${other}.`);
}

function isOurs(route: HttpRoute, target: ManagedRouteRef): boolean {
  return route.name === abRouteName(target.service) || route.name === previewRouteName(target.service) || route.name === laneRouteName(target.service);
}

/** Index of the managed http route; throws PREFLIGHT_FAILED when there is none. */
export function findManagedRoute(vs: VirtualServiceObject, target: ManagedRouteRef): number {
  const routes = vs.spec.http ?? [];
  const name = vs.metadata.name;
  if (target.route !== undefined) {
    const index = routes.findIndex((route) => route.name === target.route);
    if (index < 0) throw new CanarybotError('PREFLIGHT_FAILED', `VirtualService ${name} has no http route named ${target.route}`);
    return index;
  }
  const index = routes.findIndex(
    (route) => !isOurs(route, target) && (route.route ?? []).some((dest) => pointsAt(dest.destination, target.host)),
  );
  if (index < 0) {
    throw new CanarybotError('PREFLIGHT_FAILED', `VirtualService ${name} has no http route with a destination host ${target.host}`);
  }
  return index;
}

function routeLabel(route: HttpRoute, index: number): string {
  return route.name ?? `#${index}`;
}

function canaryDestination(stable: Destination, target: ManagedRouteRef, subset = target.canary.subset): Destination {
  const destination: Destination = { host: stable.host, subset };
  if (stable.port !== undefined) destination.port = { ...stable.port };
  return destination;
}

/** The subsets canarybot manages on the route besides stable: the canary's and, with one, the baseline's. */
function managedSubsets(target: ManagedRouteRef): string[] {
  return target.baseline ? [target.canary.subset, target.baseline.subset] : [target.canary.subset];
}

function weightedDestinations(
  vsName: string,
  route: HttpRoute,
  index: number,
  target: ManagedRouteRef,
  traffic: TrafficState,
): { destinations: RouteDestination[]; stable: Destination } {
  const current = route.route ?? [];
  const label = routeLabel(route, index);
  const isSubset = (dest: RouteDestination, subset: string): boolean =>
    pointsAt(dest.destination, target.host) && dest.destination.subset === subset;
  const stable = current.find((dest) => isSubset(dest, target.stable.subset));
  if (!stable) {
    throw new CanarybotError(
      'PREFLIGHT_FAILED',
      `VirtualService ${vsName} http route ${label} has no destination ${target.host} with subset ${target.stable.subset}`,
    );
  }
  const ours = [target.stable.subset, ...managedSubsets(target)];
  const foreign = current.find((dest) => !ours.some((subset) => isSubset(dest, subset)));
  if (foreign) {
    const where = `${foreign.destination?.host ?? '?'}${foreign.destination?.subset ? ` subset ${foreign.destination.subset}` : ''}`;
    throw new CanarybotError(
      'PREFLIGHT_FAILED',
      `VirtualService ${vsName} http route ${label} also routes to ${where}; canarybot manages a route that sends traffic only to subsets ${ours.slice(0, -1).join(', ')} and ${ours.at(-1)}`,
    );
  }
  const { stable: stableWeight, canary: canaryWeight } = traffic.weights;
  const baselineWeight = traffic.weights.baseline ?? 0;
  if (baselineWeight > 0 && !target.baseline) throw new CanarybotError('INTERNAL', `a baseline weight of ${baselineWeight} for a target without target.baseline`);
  const wanted = new Map<string, number>([[target.canary.subset, canaryWeight]]);
  if (target.baseline) wanted.set(target.baseline.subset, baselineWeight);
  const destinations: RouteDestination[] = [];
  const placed = new Set<string>();
  for (const dest of current) {
    if (dest === stable) {
      const single = canaryWeight === 0 && baselineWeight === 0;
      // Alone on the route a weight is optional; keep the user's choice of writing it or not.
      if (single && dest.weight === undefined) destinations.push({ ...dest });
      else destinations.push({ ...dest, weight: stableWeight });
      continue;
    }
    const subset = [...wanted.keys()].find((candidate) => isSubset(dest, candidate));
    if (subset === undefined) continue;
    const weight = wanted.get(subset) ?? 0;
    if (weight > 0 && !placed.has(subset)) destinations.push(tagged({ ...dest, weight }, subset === target.canary.subset ? traffic.tagCanary : null));
    placed.add(subset);
  }
  for (const [subset, weight] of wanted) {
    if (weight > 0 && !placed.has(subset)) {
      const dest = { destination: canaryDestination(stable.destination, target, subset), weight };
      destinations.push(tagged(dest, subset === target.canary.subset ? traffic.tagCanary : null));
    }
  }
  return { destinations, stable: stable.destination };
}

/** A train's entry by weight: the canary's share carries the lane header (Istio `headers.request.set`). */
function tagged(dest: RouteDestination, tag: TrafficState['tagCanary']): RouteDestination {
  if (!tag) return dest;
  return { ...dest, headers: { request: { set: { [tag.name]: tag.value } } } };
}

/** Where the A/B and preview routes send their requests: the canary, or canary and baseline half each. */
function extraDestinations(canary: Destination, baseline: Destination | null): RouteDestination[] {
  if (!baseline) return [{ destination: canary }];
  return [
    { destination: canary, weight: 50 },
    { destination: baseline, weight: 50 },
  ];
}

function extraRoute(name: string, managed: HttpRoute, match: Record<string, unknown>[], destinations: RouteDestination[]): HttpRoute {
  const copied = Object.fromEntries(Object.entries(managed).filter(([key]) => !NOT_COPIED.has(key)));
  return { name, match, route: destinations, ...copied };
}

/**
 * The managed route's mirror: `mirror` to the canary, or — with a baseline — `mirrors` to canary and
 * baseline at the same percentage (Istio allows one of the two fields, never both). Only canarybot's
 * own mirror is ever removed.
 */
function withMirror(route: HttpRoute, target: ManagedRouteRef, canary: Destination, baseline: Destination | null, percent: number): HttpRoute {
  const ourSubsets = managedSubsets(target);
  const isOurs = (destination: Destination | undefined): boolean => pointsAt(destination, target.host) && ourSubsets.includes(destination?.subset ?? '');
  const { mirror, mirrorPercentage, mirrors, ...rest } = route;
  const keepSingle = mirror !== undefined && !isOurs(mirror) ? { mirror, ...(mirrorPercentage ? { mirrorPercentage } : {}) } : {};
  const keptMany = (mirrors ?? []).filter((entry) => !isOurs(entry.destination));
  if (percent > 0 && !baseline) return { ...rest, ...(keptMany.length > 0 ? { mirrors: keptMany } : {}), mirror: canary, mirrorPercentage: { value: percent } };
  if (percent > 0 && baseline) {
    return { ...rest, mirrors: [...keptMany, { destination: canary, percentage: { value: percent } }, { destination: baseline, percentage: { value: percent } }] };
  }
  return { ...rest, ...keepSingle, ...(keptMany.length > 0 ? { mirrors: keptMany } : {}) };
}

function assertValidTraffic(traffic: TrafficState): void {
  const { stable, canary, baseline = 0 } = traffic.weights;
  const percent = (value: number): boolean => Number.isInteger(value) && value >= 0 && value <= 100;
  if (!percent(stable) || !percent(canary) || !percent(baseline) || stable + canary + baseline !== 100) {
    throw new CanarybotError('INTERNAL', `route weights must be whole percentages summing to 100, got ${stable}/${canary}${baseline ? `/${baseline}` : ''}`);
  }
  if (!(traffic.mirrorPercent >= 0 && traffic.mirrorPercent <= 100)) {
    throw new CanarybotError('INTERNAL', `mirror percentage must be between 0 and 100, got ${traffic.mirrorPercent}`);
  }
}

/**
 * The VirtualService that realises `traffic` on the managed route. Never mutates `current`; equal
 * content comes back when nothing changes. Throws PREFLIGHT_FAILED when the route cannot be managed.
 */
export function desiredVirtualService(
  current: VirtualServiceObject,
  target: ManagedRouteRef,
  traffic: TrafficState,
): VirtualServiceObject {
  assertValidTraffic(traffic);
  const routes = current.spec.http ?? [];
  const index = findManagedRoute(current, target);
  const managed = routes[index] as HttpRoute;
  const label = routeLabel(managed, index);
  const { destinations, stable } = weightedDestinations(current.metadata.name, managed, index, target, traffic);
  const canary = canaryDestination(stable, target);
  // The baseline shares the A/B, preview and mirror routes while the traffic state carries it.
  const baseline = target.baseline && traffic.weights.baseline !== undefined ? canaryDestination(stable, target, target.baseline.subset) : null;

  const nextManaged = withMirror({ ...managed, route: destinations }, target, canary, baseline, traffic.mirrorPercent);
  const extras: HttpRoute[] = [];
  if (traffic.preview) {
    const block = { headers: { [traffic.preview.header]: { exact: traffic.preview.value } } };
    extras.push(extraRoute(previewRouteName(target.service), managed, combineMatches(label, managed.match, [block]), extraDestinations(canary, baseline)));
  }
  if (traffic.abMatch && traffic.abMatch.length > 0) {
    const blocks = traffic.abMatch.map(istioConditions);
    extras.push(extraRoute(abRouteName(target.service), managed, combineMatches(label, managed.match, blocks), extraDestinations(canary, baseline)));
  }

  if (traffic.lane && traffic.lane.match.length > 0) {
    // Lane requests reach the canary alone: a lane is one version of every service end to end.
    const blocks = traffic.lane.match.map(istioConditions);
    const setHeader = traffic.lane.setHeader;
    const to = traffic.lane.to === 'stable' ? { ...stable } : canary;
    const destination: RouteDestination = setHeader ? { destination: to, headers: { request: { set: { [setHeader.name]: setHeader.value } } } } : { destination: to };
    extras.unshift(extraRoute(laneRouteName(target.service), managed, combineMatches(label, managed.match, blocks), [destination]));
  }

  const http: HttpRoute[] = [];
  routes.forEach((route, i) => {
    if (i === index) http.push(...extras, nextManaged);
    else if (!isOurs(route, target)) http.push(route);
  });
  const desired: VirtualServiceObject = { ...current, spec: { ...current.spec, http } };
  return structuredClone(deepEqual(desired, current) ? current : desired);
}
