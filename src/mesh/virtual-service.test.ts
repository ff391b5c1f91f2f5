import { describe, expect, it } from 'vitest';
import { CanarybotError } from '../core/errors.js';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import { desiredVirtualService } from './virtual-service.js';
import { virtualServicePatch } from './virtual-service-patch.js';
import type { HttpRoute, ManagedRouteRef, VirtualServiceObject } from './virtual-service-types.js';

const target: ManagedRouteRef = {
  service: 'reviews',
  route: 'primary',
  host: 'reviews',
  stable: { subset: 'stable' },
  canary: { subset: 'canary' },
};

const docsRoute: HttpRoute = {
  name: 'docs',
  match: [{ uri: { prefix: '/docs' } }],
  route: [{ destination: { host: 'docs' } }],
};

function vs(primary: Partial<HttpRoute> = {}, extra: HttpRoute[] = [docsRoute]): VirtualServiceObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'bookinfo', resourceVersion: '7' },
    spec: {
      hosts: ['reviews'],
      http: [
        ...extra,
        {
          name: 'primary',
          match: [{ uri: { prefix: '/reviews' } }],
          route: [{ destination: { host: 'reviews', subset: 'stable', port: { number: 9080 } }, weight: 100 }],
          timeout: '3s',
          retries: { attempts: 2, perTryTimeout: '1s' },
          ...primary,
        },
      ],
    },
  };
}

function traffic(partial: Partial<TrafficState>): TrafficState {
  return { ...ALL_STABLE, ...partial };
}

function primaryOf(object: VirtualServiceObject): HttpRoute {
  return object.spec.http?.find((route) => route.name === 'primary') as HttpRoute;
}

const stableDest = { host: 'reviews', subset: 'stable', port: { number: 9080 } };
const canaryDest = { host: 'reviews', subset: 'canary', port: { number: 9080 } };

describe('desiredVirtualService weights', () => {
  const rows: { name: string; stable: number; canary: number; expected: HttpRoute['route'] }[] = [
    { name: '100/0 keeps stable only', stable: 100, canary: 0, expected: [{ destination: stableDest, weight: 100 }] },
    {
      name: '95/5 adds the canary destination',
      stable: 95,
      canary: 5,
      expected: [{ destination: stableDest, weight: 95 }, { destination: canaryDest, weight: 5 }],
    },
    {
      name: '0/100 keeps stable at weight 0',
      stable: 0,
      canary: 100,
      expected: [{ destination: stableDest, weight: 0 }, { destination: canaryDest, weight: 100 }],
    },
  ];
  it.each(rows)('$name', ({ stable, canary, expected }) => {
    const desired = desiredVirtualService(vs(), target, traffic({ weights: { stable, canary } }));

    expect(primaryOf(desired).route).toEqual(expected);
  });

  it('updates an existing canary destination in place and removes it at 100 % stable', () => {
    const current = vs({ route: [{ destination: canaryDest, weight: 30, headers: { request: { set: { x: '1' } } } }, { destination: stableDest, weight: 70 }] });

    const moved = desiredVirtualService(current, target, traffic({ weights: { stable: 50, canary: 50 } }));
    const back = desiredVirtualService(current, target, ALL_STABLE);

    expect(primaryOf(moved).route).toEqual([
      { destination: canaryDest, weight: 50, headers: { request: { set: { x: '1' } } } },
      { destination: stableDest, weight: 50 },
    ]);
    expect(primaryOf(back).route).toEqual([{ destination: stableDest, weight: 100 }]);
  });

  it('leaves a weightless single stable destination without a weight at 100 % stable', () => {
    const current = vs({ route: [{ destination: stableDest }] });

    expect(desiredVirtualService(current, target, ALL_STABLE)).toEqual(current);
  });
});

describe('desiredVirtualService keeps everything else', () => {
  it('returns equal content, a new object, and never mutates current', () => {
    const current = vs({ fault: { delay: { percentage: { value: 1 }, fixedDelay: '1s' } }, futureField: { a: [1, 2] } });
    const frozen = structuredClone(current);

    const same = desiredVirtualService(current, target, ALL_STABLE);
    const moved = desiredVirtualService(current, target, traffic({ weights: { stable: 75, canary: 25 } }));

    expect(same).toEqual(current);
    expect(same).not.toBe(current);
    expect(current).toEqual(frozen);
    const { route: _r, ...rest } = primaryOf(moved);
    const { route: _o, ...original } = primaryOf(current);
    expect(rest).toEqual(original);
    expect(moved.spec.http?.[0]).toEqual(docsRoute);
    expect(moved.metadata).toEqual(current.metadata);
  });

  it('finds the route by host when no name is given, skipping routes to other hosts', () => {
    const current = vs({ name: undefined });
    const desired = desiredVirtualService(current, { ...target, route: undefined }, traffic({ weights: { stable: 90, canary: 10 } }));

    expect(desired.spec.http?.[1]?.route?.[1]).toEqual({ destination: canaryDest, weight: 10 });
    expect(desired.spec.http?.[0]).toEqual(docsRoute);
  });
});

describe('desiredVirtualService A/B, mirror, preview', () => {
  it('inserts the A/B route before the managed route, ANDed with its match, and removes it again', () => {
    const abMatch = [
      { headers: { 'x-user': { exact: 'beta' } } },
      { cookies: { group: 'b.1' }, queryParams: { canary: { prefix: 'y' } } },
    ];

    const withAb = desiredVirtualService(vs(), target, traffic({ abMatch }));
    const without = desiredVirtualService(withAb, target, ALL_STABLE);

    expect(withAb.spec.http?.map((route) => route.name)).toEqual(['docs', 'canarybot-reviews-ab', 'primary']);
    expect(withAb.spec.http?.[1]).toEqual({
      name: 'canarybot-reviews-ab',
      match: [
        { uri: { prefix: '/reviews' }, headers: { 'x-user': { exact: 'beta' } } },
        {
          uri: { prefix: '/reviews' },
          headers: { cookie: { regex: '^(.*;\\s*)?group=b\\.1(;.*)?$' } },
          queryParams: { canary: { prefix: 'y' } },
        },
      ],
      route: [{ destination: canaryDest }],
      timeout: '3s',
      retries: { attempts: 2, perTryTimeout: '1s' },
    });
    expect(primaryOf(withAb)).toEqual(primaryOf(vs()));
    expect(without).toEqual(vs());
  });

  it('cookie regex matches the cookie in any position and order', () => {
    const desired = desiredVirtualService(vs(), target, traffic({ abMatch: [{ cookies: { b: '2', a: '1' } }] }));
    const regex = new RegExp((desired.spec.http?.[1]?.match?.[0]?.headers as { cookie: { regex: string } }).cookie.regex);

    expect(['a=1; b=2', 'x=0; b=2; a=1; z=9', 'b=2;a=1'].map((c) => regex.test(c))).toEqual([true, true, true]);
    expect(['a=1', 'a=12; b=2', 'xa=1; b=2', 'a=1; b=22'].map((c) => regex.test(c))).toEqual([false, false, false, false]);
  });

  it('sets mirror and mirrorPercentage, and removes only its own mirror at 0', () => {
    const mirrored = desiredVirtualService(vs(), target, traffic({ mirrorPercent: 20 }));
    const userMirror = vs({ mirror: { host: 'shadow' }, mirrorPercentage: { value: 5 } });

    expect(primaryOf(mirrored).mirror).toEqual(canaryDest);
    expect(primaryOf(mirrored).mirrorPercentage).toEqual({ value: 20 });
    expect(desiredVirtualService(mirrored, target, ALL_STABLE)).toEqual(vs());
    expect(desiredVirtualService(userMirror, target, ALL_STABLE)).toEqual(userMirror);
  });

  it('adds the blue/green preview route by header', () => {
    const desired = desiredVirtualService(vs(), target, traffic({ preview: { header: 'x-preview', value: 'yes' } }));

    expect(desired.spec.http?.[1]).toMatchObject({
      name: 'canarybot-reviews-preview',
      match: [{ uri: { prefix: '/reviews' }, headers: { 'x-preview': { exact: 'yes' } } }],
      route: [{ destination: canaryDest }],
    });
    expect(desiredVirtualService(desired, target, ALL_STABLE)).toEqual(vs());
  });
});

describe('desiredVirtualService refusals', () => {
  const rows: { name: string; current: VirtualServiceObject; ref: ManagedRouteRef; message: string }[] = [
    { name: 'missing route', current: vs(), ref: { ...target, route: 'main' }, message: 'VirtualService reviews has no http route named main' },
    {
      name: 'no route to host',
      current: vs(),
      ref: { ...target, route: undefined, host: 'ratings' },
      message: 'VirtualService reviews has no http route with a destination host ratings',
    },
    {
      name: 'no stable destination',
      current: vs({ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }),
      ref: target,
      message: 'VirtualService reviews http route primary has no destination reviews with subset stable',
    },
  ];
  it.each(rows)('$name', ({ current, ref, message }) => {
    const run = () => desiredVirtualService(current, ref, ALL_STABLE);

    expect(run).toThrow(CanarybotError);
    expect(run).toThrow(message);
  });

  it.each([
    { stable: 90, canary: 20 },
    { stable: 105, canary: -5 },
    { stable: 99.5, canary: 0.5 },
  ])('refuses weights $stable/$canary before touching anything', (bad) => {
    expect(() => desiredVirtualService(vs(), target, traffic({ weights: bad }))).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }) as Error,
    );
  });

  it('names the message asked for by the plan command', () => {
    const current = vs({}, []);
    current.spec.http = [];

    expect(() => desiredVirtualService(current, target, ALL_STABLE)).toThrow('VirtualService reviews has no http route named primary');
  });
});

describe('virtualServicePatch', () => {
  it('is null when nothing differs and tests the resourceVersion first otherwise', () => {
    const current = vs();
    const desired = desiredVirtualService(current, target, traffic({ weights: { stable: 80, canary: 20 } }));

    expect(virtualServicePatch(current, desiredVirtualService(current, target, ALL_STABLE))).toBeNull();
    expect(virtualServicePatch(current, desired)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      {
        op: 'replace',
        path: '/spec/http/1/route',
        value: [{ destination: stableDest, weight: 80 }, { destination: canaryDest, weight: 20 }],
      },
    ]);
  });

  it('removes keys and escapes pointer segments', () => {
    const current = vs({ mirror: canaryDest, mirrorPercentage: { value: 3 } });
    current.metadata.annotations = { 'a/b~c': 'x' };
    const desired = structuredClone(current);
    delete primaryOf(desired).mirror;
    (desired.metadata.annotations as Record<string, string>)['a/b~c'] = 'y';

    expect(virtualServicePatch(current, desired)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'replace', path: '/metadata/annotations/a~1b~0c', value: 'y' },
      { op: 'remove', path: '/spec/http/1/mirror' },
    ]);
  });
});
