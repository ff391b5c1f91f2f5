import { describe, expect, it } from 'vitest';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import { laneMatch } from '../core/train/lane.js';
import { validateIstioObject } from '../sim/kube/istio-validation.js';
import { desiredVirtualService, laneRouteName } from './virtual-service.js';
import type { HttpRoute, ManagedRouteRef, VirtualServiceObject } from './virtual-service-types.js';

const target: ManagedRouteRef = { service: 'ratings', host: 'ratings', stable: { subset: 'stable' }, canary: { subset: 'canary' } };
const lane = { header: 'x-canary-lane', value: 'bookinfo-v2', baggage: true };
const stableDest = { host: 'ratings', subset: 'stable', port: { number: 9080 } };
const canaryDest = { host: 'ratings', subset: 'canary', port: { number: 9080 } };
const docs: HttpRoute = { name: 'docs', match: [{ uri: { prefix: '/docs' } }], route: [{ destination: { host: 'docs' } }] };

function vs(): VirtualServiceObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'ratings', namespace: 'bookinfo', resourceVersion: '3' },
    spec: { hosts: ['ratings'], http: [docs, { name: 'primary', route: [{ destination: stableDest }], timeout: '2s' }] },
  };
}

function traffic(partial: Partial<TrafficState>): TrafficState {
  return { ...ALL_STABLE, ...partial };
}

describe('desiredVirtualService: release-train lane routes', () => {
  it('puts the lane route (header or baggage) to the canary right before the default route, keeping the rest', () => {
    const desired = desiredVirtualService(vs(), target, traffic({ lane: { match: laneMatch(lane), setHeader: null } }));

    expect(desired.spec.http).toEqual([
      docs,
      {
        name: laneRouteName('ratings'),
        match: [
          { headers: { 'x-canary-lane': { exact: 'bookinfo-v2' } } },
          { headers: { baggage: { regex: '^(.*,)?[ \\t]*canary-lane[ \\t]*=[ \\t]*bookinfo-v2[ \\t]*(;[^,]*)?(,.*)?$' } } },
        ],
        route: [{ destination: canaryDest }],
        timeout: '2s',
      },
      { name: 'primary', route: [{ destination: stableDest }], timeout: '2s' },
    ]);
    expect(validateIstioObject('VirtualService', desired as unknown as Record<string, unknown>)).toEqual([]);
  });

  it('at a cohort entry sets the lane header on the requests it sends to the canary', () => {
    const cohort = [{ headers: { 'x-user-group': { exact: 'beta' } } }];

    const desired = desiredVirtualService(vs(), target, traffic({ lane: { match: cohort, setHeader: { name: 'x-canary-lane', value: 'bookinfo-v2' } } }));

    expect(desired.spec.http?.[1]).toEqual({
      name: laneRouteName('ratings'),
      match: [{ headers: { 'x-user-group': { exact: 'beta' } } }],
      route: [{ destination: canaryDest, headers: { request: { set: { 'x-canary-lane': 'bookinfo-v2' } } } }],
      timeout: '2s',
    });
    expect(validateIstioObject('VirtualService', desired as unknown as Record<string, unknown>)).toEqual([]);
  });

  it('at an entry by weight tags the canary share of the default route', () => {
    const desired = desiredVirtualService(
      vs(),
      target,
      traffic({ weights: { stable: 95, canary: 5 }, tagCanary: { name: 'x-canary-lane', value: 'bookinfo-v2' } }),
    );

    expect(desired.spec.http?.[1]?.route).toEqual([
      { destination: stableDest, weight: 95 },
      { destination: canaryDest, weight: 5, headers: { request: { set: { 'x-canary-lane': 'bookinfo-v2' } } } },
    ]);
    expect(validateIstioObject('VirtualService', desired as unknown as Record<string, unknown>)).toEqual([]);
  });

  it('removes the lane route and the tag when the traffic no longer has them', () => {
    const open = desiredVirtualService(vs(), target, traffic({ weights: { stable: 90, canary: 10 }, tagCanary: { name: 'x-canary-lane', value: 'v' }, lane: { match: laneMatch(lane), setHeader: null } }));

    const closed = desiredVirtualService(open, target, ALL_STABLE);

    // Once written, stable's weight stays written (100), as for every other release.
    expect(closed.spec.http).toEqual([docs, { name: 'primary', route: [{ destination: stableDest, weight: 100 }], timeout: '2s' }]);
  });
});
