import { describe, expect, it } from 'vitest';
import { CanarybotError } from '../core/errors.js';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import { abRouteName, desiredVirtualService, previewRouteName } from './virtual-service.js';
import type { HttpRoute, ManagedRouteRef, VirtualServiceObject } from './virtual-service-types.js';

const target: ManagedRouteRef = {
  service: 'reviews',
  route: 'primary',
  host: 'reviews',
  stable: { subset: 'stable' },
  canary: { subset: 'canary' },
  baseline: { subset: 'baseline' },
};

const dest = (subset: string) => ({ host: 'reviews', subset, port: { number: 9080 } });

function vs(primary: Partial<HttpRoute> = {}): VirtualServiceObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'bookinfo', resourceVersion: '7' },
    spec: { hosts: ['reviews'], http: [{ name: 'primary', route: [{ destination: dest('stable'), weight: 100 }], timeout: '3s', ...primary }] },
  };
}

const traffic = (partial: Partial<TrafficState>): TrafficState => ({ ...ALL_STABLE, ...partial });
const route = (object: VirtualServiceObject, name = 'primary'): HttpRoute => object.spec.http!.find((r) => r.name === name)!;

describe('desiredVirtualService with a baseline', () => {
  it('gives the baseline the canary\'s weight and stable the rest, then takes both away', () => {
    const split = desiredVirtualService(vs(), target, traffic({ weights: { stable: 80, canary: 10, baseline: 10 } }));
    const back = desiredVirtualService(split, target, ALL_STABLE);

    expect(route(split).route).toEqual([
      { destination: dest('stable'), weight: 80 },
      { destination: dest('canary'), weight: 10 },
      { destination: dest('baseline'), weight: 10 },
    ]);
    expect(route(back).route).toEqual([{ destination: dest('stable'), weight: 100 }]);
    expect(route(back).timeout).toBe('3s');
  });

  it('moves weights in place on later steps', () => {
    const first = desiredVirtualService(vs(), target, traffic({ weights: { stable: 80, canary: 10, baseline: 10 } }));

    const second = desiredVirtualService(first, target, traffic({ weights: { stable: 0, canary: 50, baseline: 50 } }));

    expect(route(second).route).toEqual([
      { destination: dest('stable'), weight: 0 },
      { destination: dest('canary'), weight: 50 },
      { destination: dest('baseline'), weight: 50 },
    ]);
  });

  it('splits A/B and preview requests evenly between canary and baseline', () => {
    const abMatch = [{ headers: { 'x-beta': { exact: '1' } } }];
    const preview = { header: 'x-preview', value: 'true' };

    const object = desiredVirtualService(vs(), target, traffic({ weights: { stable: 100, canary: 0, baseline: 0 }, abMatch, preview }));

    const even = [
      { destination: dest('canary'), weight: 50 },
      { destination: dest('baseline'), weight: 50 },
    ];
    expect(route(object, abRouteName('reviews')).route).toEqual(even);
    expect(route(object, previewRouteName('reviews')).route).toEqual(even);
    expect(route(object).route).toEqual([{ destination: dest('stable'), weight: 100 }]);
  });

  it('mirrors the same share to canary and baseline with `mirrors`, and removes only its own', () => {
    const foreign = { destination: { host: 'shadow' }, percentage: { value: 1 } };
    const mirrored = desiredVirtualService(vs({ mirrors: [foreign] }), target, traffic({ weights: { stable: 100, canary: 0, baseline: 0 }, mirrorPercent: 20 }));
    const ended = desiredVirtualService(mirrored, target, ALL_STABLE);

    expect(route(mirrored).mirrors).toEqual([foreign, { destination: dest('canary'), percentage: { value: 20 } }, { destination: dest('baseline'), percentage: { value: 20 } }]);
    expect(route(mirrored).mirror).toBeUndefined();
    expect(route(ended).mirrors).toEqual([foreign]);
  });

  it('refuses a route that sends traffic elsewhere, naming every managed subset', () => {
    const other = vs({ route: [{ destination: dest('stable'), weight: 90 }, { destination: dest('v3'), weight: 10 }] });

    expect(() => desiredVirtualService(other, target, ALL_STABLE)).toThrow('canarybot manages a route that sends traffic only to subsets stable, canary and baseline');
  });

  it('refuses a baseline weight for a target without a baseline', () => {
    const { baseline: _baseline, ...plain } = target;

    expect(() => desiredVirtualService(vs(), plain, traffic({ weights: { stable: 80, canary: 10, baseline: 10 } }))).toThrow(CanarybotError);
  });
});
