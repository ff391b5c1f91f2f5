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

function pointsAt(destination: Destination | undefined, host: string): boolean {
  if (!destination || typeof destination.host !== 'string') return false;
  const other = destination.host;
  return other === host || other.startsWith(`${host}.`) || host.startsWith(`${other}.`);
}

function isOurs(route: HttpRoute, target: ManagedRouteRef): boolean {
  return route.name === abRouteName(target.service) || route.name === previewRouteName(target.service);
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

function canaryDestination(stable: Destination, target: ManagedRouteRef): Destination {
  const destination: Destination = { host: stable.host, subset: target.canary.subset };
  if (stable.port !== undefined) destination.port = { ...stable.port };
  return destination;
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
  const foreign = current.find((dest) => !isSubset(dest, target.stable.subset) && !isSubset(dest, target.canary.subset));
  if (foreign) {
    const where = `${foreign.destination?.host ?? '?'}${foreign.destination?.subset ? ` subset ${foreign.destination.subset}` : ''}`;
    throw new CanarybotError(
      'PREFLIGHT_FAILED',
      `VirtualService ${vsName} http route ${label} also routes to ${where}; canarybot manages a route that sends traffic only to subsets ${target.stable.subset} and ${target.canary.subset}`,
    );
  }
  const { stable: stableWeight, canary: canaryWeight } = traffic.weights;
  const destinations: RouteDestination[] = [];
  let canaryPlaced = false;
  for (const dest of current) {
    if (dest === stable) {
      const single = canaryWeight === 0;
      // Alone on the route a weight is optional; keep the user's choice of writing it or not.
      if (single && dest.weight === undefined) destinations.push({ ...dest });
      else destinations.push({ ...dest, weight: stableWeight });
    } else if (isSubset(dest, target.canary.subset)) {
      if (canaryWeight > 0 && !canaryPlaced) destinations.push({ ...dest, weight: canaryWeight });
      canaryPlaced = true;
    }
  }
  if (canaryWeight > 0 && !canaryPlaced) {
    destinations.push({ destination: canaryDestination(stable.destination, target), weight: canaryWeight });
  }
  return { destinations, stable: stable.destination };
}

function extraRoute(name: string, managed: HttpRoute, match: Record<string, unknown>[], canary: Destination): HttpRoute {
  const copied = Object.fromEntries(Object.entries(managed).filter(([key]) => !NOT_COPIED.has(key)));
  return { name, match, route: [{ destination: canary }], ...copied };
}

function withMirror(route: HttpRoute, target: ManagedRouteRef, canary: Destination, percent: number): HttpRoute {
  if (percent > 0) return { ...route, mirror: canary, mirrorPercentage: { value: percent } };
  const ours = pointsAt(route.mirror, target.host) && route.mirror?.subset === target.canary.subset;
  if (!ours) return { ...route };
  const { mirror: _mirror, mirrorPercentage: _percentage, ...rest } = route;
  return rest;
}

function assertValidTraffic(traffic: TrafficState): void {
  const { stable, canary } = traffic.weights;
  const percent = (value: number): boolean => Number.isInteger(value) && value >= 0 && value <= 100;
  if (!percent(stable) || !percent(canary) || stable + canary !== 100) {
    throw new CanarybotError('INTERNAL', `route weights must be whole percentages summing to 100, got ${stable}/${canary}`);
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

  const nextManaged = withMirror({ ...managed, route: destinations }, target, canary, traffic.mirrorPercent);
  const extras: HttpRoute[] = [];
  if (traffic.preview) {
    const block = { headers: { [traffic.preview.header]: { exact: traffic.preview.value } } };
    extras.push(extraRoute(previewRouteName(target.service), managed, combineMatches(label, managed.match, [block]), canary));
  }
  if (traffic.abMatch && traffic.abMatch.length > 0) {
    const blocks = traffic.abMatch.map(istioConditions);
    extras.push(extraRoute(abRouteName(target.service), managed, combineMatches(label, managed.match, blocks), canary));
  }

  const http: HttpRoute[] = [];
  routes.forEach((route, i) => {
    if (i === index) http.push(...extras, nextManaged);
    else if (!isOurs(route, target)) http.push(route);
  });
  const desired: VirtualServiceObject = { ...current, spec: { ...current.spec, http } };
  return structuredClone(deepEqual(desired, current) ? current : desired);
}
