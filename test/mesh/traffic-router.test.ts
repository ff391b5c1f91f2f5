import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CanarybotError } from '../../src/core/errors.js';
import { ALL_STABLE, type TrafficState } from '../../src/core/traffic.js';
import { destinationRule, NS, virtualService } from './fixtures.js';
import { httpRoutes, patches, seedBookinfo, startHarness, target, type MeshHarness } from './harness.js';

let mesh: MeshHarness;

beforeAll(async () => {
  mesh = await startHarness();
});

afterAll(async () => {
  await mesh.close();
});

beforeEach(() => {
  Object.assign(mesh.server.faults, { errorRate: 0, conflictRate: 0, latencyMs: 0 });
  mesh.server.beforeHandle = null;
  mesh.server.testFailureStatus = 409;
  seedBookinfo(mesh.server);
});

const state = (partial: Partial<TrafficState>): TrafficState => ({ ...ALL_STABLE, ...partial });
const weights = (canary: number): TrafficState => state({ weights: { stable: 100 - canary, canary } });
const stable = { host: 'reviews', subset: 'stable' };
const canary = { host: 'reviews', subset: 'canary' };
const test = (version: unknown) => ({ op: 'test', path: '/metadata/resourceVersion', value: version });
const anyVersion = expect.any(String) as unknown;

describe('strategies: the exact sequence of writes', () => {
  it('canary: one JSON patch per weight change, led by a resourceVersion test', async () => {
    await mesh.router.preflight(target());
    for (const step of [weights(10), weights(50), weights(100), ALL_STABLE]) await mesh.router.setTraffic(target(), step);

    expect(patches(mesh.server)).toEqual([
      [test(anyVersion), { op: 'replace', path: '/spec/http/0/route', value: [{ destination: stable, weight: 90 }, { destination: canary, weight: 10 }] }],
      [test(anyVersion), { op: 'replace', path: '/spec/http/0/route/0/weight', value: 50 }, { op: 'replace', path: '/spec/http/0/route/1/weight', value: 50 }],
      [test(anyVersion), { op: 'replace', path: '/spec/http/0/route/0/weight', value: 0 }, { op: 'replace', path: '/spec/http/0/route/1/weight', value: 100 }],
      [test(anyVersion), { op: 'replace', path: '/spec/http/0/route', value: [{ destination: stable, weight: 100 }] }],
    ]);
    expect(mesh.server.writes().every((write) => write.method === 'PATCH' && write.contentType === 'application/json-patch+json')).toBe(true);
    expect(httpRoutes(mesh.server)).toEqual(virtualService().spec.http);
  });

  it('abTest: the A/B route goes in before the managed route and comes out on promote', async () => {
    const abMatch = [{ headers: { 'x-beta': { exact: 'yes' } } }, { cookies: { tier: 'gold' } }];

    await mesh.router.setTraffic(target(), state({ abMatch }));
    const during = httpRoutes(mesh.server);
    await mesh.router.setTraffic(target(), ALL_STABLE);

    expect(during).toEqual([
      {
        name: 'canarybot-reviews-ab',
        match: [{ headers: { 'x-beta': { exact: 'yes' } } }, { headers: { cookie: { regex: '^(.*;\\s*)?tier=gold(;.*)?$' } } }],
        route: [{ destination: canary }],
      },
      virtualService().spec.http?.[0],
    ]);
    expect(patches(mesh.server)).toEqual([
      [test(anyVersion), { op: 'replace', path: '/spec/http', value: during }],
      [test(anyVersion), { op: 'replace', path: '/spec/http', value: virtualService().spec.http }],
    ]);
  });

  it('mirror: mirror and mirrorPercentage on the managed route, removed afterwards', async () => {
    await mesh.router.setTraffic(target(), state({ mirrorPercent: 20 }));
    await mesh.router.setTraffic(target(), state({ mirrorPercent: 50 }));
    await mesh.router.setTraffic(target(), ALL_STABLE);

    expect(patches(mesh.server)).toEqual([
      [test(anyVersion), { op: 'add', path: '/spec/http/0/mirror', value: canary }, { op: 'add', path: '/spec/http/0/mirrorPercentage', value: { value: 20 } }],
      [test(anyVersion), { op: 'replace', path: '/spec/http/0/mirrorPercentage/value', value: 50 }],
      [test(anyVersion), { op: 'remove', path: '/spec/http/0/mirror' }, { op: 'remove', path: '/spec/http/0/mirrorPercentage' }],
    ]);
    expect(httpRoutes(mesh.server)).toEqual(virtualService().spec.http);
  });

  it('blueGreen: preview route by header, then 0 → 100 and the preview gone in one write', async () => {
    const preview = { header: 'x-preview', value: 'reviews' };

    await mesh.router.setTraffic(target(), state({ preview }));
    await mesh.router.setTraffic(target(), weights(100));
    await mesh.router.setTraffic(target(), ALL_STABLE);

    const writes = patches(mesh.server);
    expect(writes).toHaveLength(3);
    expect(writes[0]).toEqual([
      test(anyVersion),
      {
        op: 'replace',
        path: '/spec/http',
        value: [
          { name: 'canarybot-reviews-preview', match: [{ headers: { 'x-preview': { exact: 'reviews' } } }], route: [{ destination: canary }] },
          virtualService().spec.http?.[0],
        ],
      },
    ]);
    expect(writes[1]).toEqual([
      test(anyVersion),
      { op: 'replace', path: '/spec/http', value: [{ name: 'primary', route: [{ destination: stable, weight: 0 }, { destination: canary, weight: 100 }] }] },
    ]);
    expect(httpRoutes(mesh.server)).toEqual(virtualService().spec.http);
  });
});

describe('the rest of the VirtualService is left alone', () => {
  it('keeps timeout, retries, fault, a second route and unknown fields byte for byte', async () => {
    const owned = {
      timeout: '2.5s',
      retries: { attempts: 3, perTryTimeout: '1s', retryOn: '5xx,reset' },
      fault: { abort: { percentage: { value: 0.1 }, httpStatus: 503 } },
      headers: { request: { set: { 'x-owner': 'team-a' } } },
      match: [{ uri: { prefix: '/reviews' } }],
    };
    const vs = virtualService(owned);
    vs.spec.http = [...vs.spec.http, { name: 'legacy', route: [{ destination: { host: 'reviews-legacy' } }] }];
    vs.spec.futureIstioField = { keep: ['me', 1, true] };
    const seeded = mesh.server.seed(vs);
    mesh.server.clearRecord();
    const without = (object: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));

    await mesh.router.setTraffic(target(), weights(30));
    const during = mesh.server.object('VirtualService', NS, 'reviews');
    await mesh.router.setTraffic(target(), state({ abMatch: [{ queryParams: { beta: { exact: '1' } } }], mirrorPercent: 10 }));
    await mesh.router.setTraffic(target(), ALL_STABLE);
    const after = mesh.server.object('VirtualService', NS, 'reviews');

    const duringSpec = during?.spec as { http: Record<string, unknown>[]; futureIstioField: unknown };
    expect(JSON.stringify(without(duringSpec.http[0] as Record<string, unknown>, ['route']))).toBe(JSON.stringify(without((seeded.spec as typeof duringSpec).http[0] as Record<string, unknown>, ['route'])));
    expect(JSON.stringify(duringSpec.http[1])).toBe(JSON.stringify((seeded.spec as typeof duringSpec).http[1]));
    expect(JSON.stringify(after?.spec)).toBe(JSON.stringify(seeded.spec));
    expect(mesh.server.writes()).toHaveLength(3);
  });

  it('writes nothing when nothing changes', async () => {
    await mesh.router.setTraffic(target(), ALL_STABLE);
    await mesh.router.setTraffic(target(), weights(25));
    await mesh.router.setTraffic(target(), weights(25));

    expect(mesh.server.writes()).toHaveLength(1);
    expect(mesh.server.requests.filter((request) => request.method === 'GET' && request.path.includes('virtualservices'))).toHaveLength(3);
  });
});

describe('concurrency and outages', () => {
  // The adapter writes once; a conflict or an outage surfaces as a transient error and the engine
  // retries the effect (one retry layer). `untilLanded` plays that retry here.
  it('converges with 30 % of writes answered 409, retried by the caller', async () => {
    mesh.server.faults.conflictRate = 0.3;
    let conflicts = 0;

    for (const canaryWeight of [5, 10, 20, 40, 60, 80, 100, 0]) {
      conflicts += await untilLanded(() => mesh.router.setTraffic(target(), weights(canaryWeight)));
    }

    expect(conflicts).toBeGreaterThan(0);
    expect(mesh.server.requests.filter((request) => request.status === 409)).toHaveLength(conflicts);
    expect(mesh.server.writes()).toHaveLength(8);
    expect(httpRoutes(mesh.server)).toEqual(virtualService().spec.http);
  });

  it.each([409, 422] as const)('a concurrent writer is a transient K8S_CONFLICT; the retry re-reads and re-applies (failed test answered %i)', async (status) => {
    mesh.server.testFailureStatus = status;
    let raced = false;
    mesh.server.beforeHandle = ({ method }) => {
      if (method !== 'PATCH' || raced) return;
      raced = true;
      mesh.server.mutate('VirtualService', NS, 'reviews', (object) => {
        (object.spec as Record<string, unknown>).exportTo = ['.'];
      });
    };

    const first = await mesh.router.setTraffic(target(), weights(20)).catch((caught: unknown) => caught);
    expect(first).toMatchObject({ code: 'K8S_CONFLICT', transient: true });
    await mesh.router.setTraffic(target(), weights(20));

    const stored = mesh.server.object('VirtualService', NS, 'reviews')?.spec as { exportTo: string[]; http: { route: unknown[] }[] };
    expect(stored.exportTo).toEqual(['.']);
    expect(stored.http[0]?.route).toEqual([{ destination: stable, weight: 80 }, { destination: canary, weight: 20 }]);
    expect(mesh.server.requests.filter((request) => request.method === 'PATCH').map((request) => request.status)).toEqual([status, 200]);
  });

  it('a conflict surfaces after one write as a transient K8S_CONFLICT (no retry in the adapter)', async () => {
    mesh.server.faults.conflictRate = 1;

    const error = await mesh.router.setTraffic(target(), weights(20)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CanarybotError);
    expect(error).toMatchObject({ code: 'K8S_CONFLICT', transient: true });
    expect(mesh.server.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
  });

  it('a 500 surfaces at once as a transient K8S_UNAVAILABLE: one request, no retry in the adapter', async () => {
    mesh.server.failNext(500);
    await mesh.router.setTraffic(target(), weights(10)).catch(() => undefined);
    await mesh.router.setTraffic(target(), weights(10));
    mesh.server.faults.errorRate = 1;
    mesh.server.clearRecord();

    const error = await mesh.router.setTraffic(target(), weights(20)).catch((caught: unknown) => caught);

    expect(mesh.server.writes()).toHaveLength(0);
    expect(error).toMatchObject({ code: 'K8S_UNAVAILABLE', transient: true });
    expect(mesh.server.requests.map((request) => request.status)).toEqual([500]);
  });
});

/** Calls until it lands, retrying transient errors as the engine does; returns how many failed. */
async function untilLanded(call: () => Promise<void>): Promise<number> {
  for (let failed = 0; failed < 50; failed += 1) {
    try {
      await call();
      return failed;
    } catch (error) {
      if (!(error instanceof CanarybotError && error.transient)) throw error;
    }
  }
  throw new Error('did not land in 50 tries');
}

describe('pre-flight', () => {
  const rows: { name: string; arrange: (h: MeshHarness) => void; message: string }[] = [
    {
      name: 'subset missing',
      arrange: (h) => h.server.seed(destinationRule([{ name: 'stable', labels: { app: 'reviews', track: 'stable' } }])),
      message: 'DestinationRule reviews has no subset canary',
    },
    {
      name: 'subset labels select nothing of the Deployment',
      arrange: (h) => h.server.seed(destinationRule([
        { name: 'stable', labels: { app: 'reviews', track: 'stable' } },
        { name: 'canary', labels: { app: 'reviews', version: 'v2' } },
      ])),
      message: 'DestinationRule reviews subset canary selects app=reviews,version=v2, but the pods of Deployment reviews-canary are labelled app=reviews,track=canary',
    },
    {
      name: 'subset selects both Deployments',
      arrange: (h) => h.server.seed(destinationRule([
        { name: 'stable', labels: { app: 'reviews' } },
        { name: 'canary', labels: { app: 'reviews', track: 'canary' } },
      ])),
      message: 'DestinationRule reviews subset stable (app=reviews) also selects the pods of Deployment reviews-canary; give the subsets distinct labels',
    },
    {
      name: 'route missing',
      arrange: (h) => h.server.mutate('VirtualService', NS, 'reviews', (o) => {
        ((o.spec as { http: { name: string }[] }).http[0] as { name: string }).name = 'main';
      }),
      message: 'VirtualService reviews has no http route named primary',
    },
    {
      name: 'no DestinationRule for the host',
      arrange: (h) => h.server.mutate('DestinationRule', NS, 'reviews', (o) => {
        (o.spec as { host: string }).host = 'ratings';
      }),
      message: `no DestinationRule for host reviews in namespace ${NS} on cluster default: create one with the subsets stable and canary`,
    },
  ];

  it.each(rows)('$name: named message, zero writes', async ({ arrange, message }) => {
    arrange(mesh);
    mesh.server.clearRecord();

    const error = await mesh.router.preflight(target()).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'PREFLIGHT_FAILED', transient: false, message });
    expect(mesh.server.writes()).toHaveLength(0);
  });

  it('names a missing VirtualService, route to the host, Deployment or container', async () => {
    const cases: [Partial<Parameters<typeof target>[0]>, string][] = [
      [{ virtualService: 'ratings' }, `VirtualService ratings not found in namespace ${NS} on cluster default: create it, or fix target.virtualService`],
      [{ host: 'details', route: undefined }, 'VirtualService reviews has no http route with a destination host details'],
      [{ canary: { subset: 'canary', deployment: 'reviews-v2', container: 'reviews' } }, `Deployment reviews-v2 not found in namespace ${NS} on cluster default`],
      [{ canary: { subset: 'canary', deployment: 'reviews-canary', container: 'app' } }, 'Deployment reviews-canary has no container named app'],
    ];

    const messages = [];
    for (const [partial] of cases) messages.push(await mesh.router.preflight(target(partial)).then(() => 'passed', (error: Error) => error.message));

    expect(messages).toEqual(cases.map(([, message]) => message));
    expect(mesh.server.writes()).toHaveLength(0);
  });

  it('passes on the seeded objects', async () => {
    await expect(mesh.router.preflight(target())).resolves.toBeUndefined();
  });
});

describe('versions', () => {
  it('falls back to networking.istio.io/v1beta1 when v1 is not served', async () => {
    const old = await startHarness({ servesIstioV1: false });

    await old.router.preflight(target());
    await old.router.setTraffic(target(), weights(10));

    const istioPaths = old.server.requests.map((request) => request.path).filter((path) => path.includes('networking.istio.io/'));
    expect(istioPaths.length).toBeGreaterThan(0);
    expect(istioPaths.every((path) => path.startsWith('/apis/networking.istio.io/v1beta1/'))).toBe(true);
    expect(old.server.writes()).toHaveLength(1);
    await old.close();
  });

});
