import { request } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiServer } from '../support/kube-api-server.js';
import { deployment, destinationRule, NS, virtualService } from './fixtures.js';

let server: KubeApiServer;

interface Answer {
  status: number;
  body: Record<string, unknown> & { metadata?: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> };
}

function call(method: string, path: string, body?: unknown, contentType = 'application/json', token = server.token): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method, ca: server.caPem, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const VS = `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/reviews`;
const DEP = `/apis/apps/v1/namespaces/${NS}/deployments/reviews-canary`;

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('condition not reached');
}

beforeAll(async () => {
  server = await KubeApiServer.start();
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  Object.assign(server.faults, { errorRate: 0, conflictRate: 0, latencyMs: 0 });
  server.servesIstioV1 = true;
  server.testFailureStatus = 409;
  server.seed(virtualService());
  server.seed(destinationRule());
  server.seed(deployment('reviews-canary', 'canary', 0));
  server.clearRecord();
});

describe('auth and errors', () => {
  it('answers 401 without the bearer token and 404 Status for a missing object', async () => {
    const denied = await call('GET', VS, undefined, 'application/json', 'wrong');
    const missing = await call('GET', `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/nope`);

    expect(denied.status).toBe(401);
    expect(denied.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404, details: { name: 'nope' } });
    expect(server.requests.map((r) => r.status)).toEqual([401, 404]);
  });
});

describe('resourceVersion and patches', () => {
  it('bumps resourceVersion on every write and refuses a stale PUT with 409', async () => {
    server.seed(virtualService());
    const read = await call('GET', VS);
    const first = await call('PUT', VS, { ...read.body, spec: { ...read.body.spec, hosts: ['reviews', 'a'] } });
    const stale = await call('PUT', VS, { ...read.body, spec: { ...read.body.spec, hosts: ['b'] } });

    expect(first.status).toBe(200);
    expect(Number(first.body.metadata?.resourceVersion)).toBeGreaterThan(Number(read.body.metadata?.resourceVersion));
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    expect(server.object('VirtualService', NS, 'reviews')?.spec).toMatchObject({ hosts: ['reviews', 'a'] });
  });

  it('refuses a PUT of an Istio object without resourceVersion (422) and a duplicate create (409 AlreadyExists)', async () => {
    const read = await call('GET', VS);
    const { resourceVersion: _dropped, ...metadata } = read.body.metadata ?? {};

    const unconditional = await call('PUT', VS, { ...read.body, metadata });
    const duplicate = await call('POST', `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`, virtualService());

    expect(unconditional.status).toBe(422);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ reason: 'AlreadyExists' });
  });

  it('bumps generation on spec changes only, resourceVersion on every write', async () => {
    const before = (await call('GET', VS)).body.metadata;

    const labelled = (await call('PATCH', VS, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json')).body.metadata;
    const specced = (await call('PATCH', VS, { spec: { exportTo: ['.'] } }, 'application/merge-patch+json')).body.metadata;

    expect([before?.generation, labelled?.generation, specced?.generation]).toEqual([1, 1, 2]);
    const versions = [before, labelled, specced].map((meta) => Number(meta?.resourceVersion));
    expect(versions[1]).toBeGreaterThan(versions[0] as number);
    expect(versions[2]).toBeGreaterThan(versions[1] as number);
  });

  it('applies merge patches and treats a stale resourceVersion in them as a precondition', async () => {
    const ok = await call('PATCH', VS, { spec: { exportTo: ['.'] } }, 'application/merge-patch+json');
    const stale = await call('PATCH', VS, { metadata: { resourceVersion: '1' }, spec: { exportTo: ['*'] } }, 'application/merge-patch+json');

    expect(ok.status).toBe(200);
    expect(ok.body.spec?.exportTo).toEqual(['.']);
    expect(stale.status).toBe(409);
  });

  it('applies JSON patches and answers a failed test with 409 (or 422 like the real apiserver)', async () => {
    const rv = (await call('GET', VS)).body.metadata?.resourceVersion;
    const patch = (version: unknown) => [
      { op: 'test', path: '/metadata/resourceVersion', value: version },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 100 },
      { op: 'add', path: '/spec/http/0/timeout', value: '2s' },
    ];

    const ok = await call('PATCH', VS, patch(rv), 'application/json-patch+json');
    const stale = await call('PATCH', VS, patch(rv), 'application/json-patch+json');
    server.testFailureStatus = 422;
    const real = await call('PATCH', VS, patch(rv), 'application/json-patch+json');
    const badPath = await call('PATCH', VS, [{ op: 'remove', path: '/spec/nothing' }], 'application/json-patch+json');

    expect(ok.status).toBe(200);
    expect((ok.body.spec?.http as { timeout?: string }[])[0]?.timeout).toBe('2s');
    expect(stale.status).toBe(409);
    expect(real.status).toBe(422);
    expect(badPath.status).toBe(422);
  });

  it('merges Deployment containers by name with strategic merge, and refuses it for Istio kinds with 415', async () => {
    const smp = { spec: { template: { spec: { containers: [{ name: 'reviews', image: 'reviews:v2' }] } } } };

    const dep = await call('PATCH', DEP, smp, 'application/strategic-merge-patch+json');
    const vs = await call('PATCH', VS, { spec: { hosts: ['x'] } }, 'application/strategic-merge-patch+json');

    expect(dep.status).toBe(200);
    expect((dep.body.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers).toEqual([
      { name: 'reviews', image: 'reviews:v2' },
      { name: 'sidecar', image: 'proxy:1' },
    ]);
    expect(vs.status).toBe(415);
    expect(vs.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
  });
});

describe('Istio schema validation', () => {
  const rows: { name: string; path: string; body: unknown; field: string }[] = [
    {
      name: 'negative weight',
      path: VS,
      body: [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: -5 }],
      field: 'spec.http[0].route[0].weight',
    },
    { name: 'weight not an integer', path: VS, body: [{ op: 'replace', path: '/spec/http/0/route/0/weight', value: 'ten' }], field: 'spec.http.0.route.0.weight' },
    { name: 'destination without host', path: VS, body: [{ op: 'replace', path: '/spec/http/0/route/0/destination', value: { subset: 'stable' } }], field: 'spec.http.0.route.0.destination' },
    { name: 'mirrorPercentage not a number', path: VS, body: [{ op: 'add', path: '/spec/http/0/mirrorPercentage', value: { value: 'x' } }], field: 'spec.http.0.mirrorPercentage.value' },
    {
      name: 'subset labels not strings',
      path: `/apis/networking.istio.io/v1/namespaces/${NS}/destinationrules/reviews`,
      body: [{ op: 'replace', path: '/spec/subsets/0/labels/track', value: 3 }],
      field: 'spec.subsets.0.labels.track',
    },
  ];
  it.each(rows)('refuses $name with 422 and keeps the object', async ({ path, body, field }) => {
    const before = (await call('GET', path)).body;

    const answer = await call('PATCH', path, body, 'application/json-patch+json');

    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect((answer.body.details as { causes: { field: string }[] }).causes.map((cause) => cause.field)).toContain(field);
    expect((await call('GET', path)).body).toEqual(before);
  });

  it('validates creates too', async () => {
    const bad = { ...virtualService(), metadata: { name: 'other', namespace: NS }, spec: { hosts: 'reviews' } };

    const answer = await call('POST', `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices`, bad);

    expect(answer.status).toBe(422);
  });
});

describe('versions', () => {
  it('stops serving networking.istio.io/v1 when told, in discovery and on the paths', async () => {
    server.servesIstioV1 = false;

    const v1 = await call('GET', VS);
    const v1beta1 = await call('GET', VS.replace('/v1/', '/v1beta1/'));
    const group = await call('GET', '/apis/networking.istio.io');

    expect(v1.status).toBe(404);
    expect(v1beta1.status).toBe(200);
    expect(v1beta1.body.apiVersion).toBe('networking.istio.io/v1beta1');
    expect((group.body.versions as { version: string }[]).map((v) => v.version)).toEqual(['v1beta1', 'v1alpha3']);
  });
});

describe('Deployments', () => {
  it('simulates a rollout: generation, observedGeneration, replicas reaching the desired count', async () => {
    const patch = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'reviews', image: 'reviews:v2' }] } } } };

    const written = await call('PATCH', DEP, patch, 'application/strategic-merge-patch+json');
    const done = await waitFor(() => call('GET', DEP), (a) => a.body.status?.availableReplicas === 2);

    expect(written.body.metadata?.generation).toBe(2);
    expect(written.body.status).toMatchObject({ observedGeneration: 2 });
    expect(written.body.status?.updatedReplicas).toBeUndefined();
    expect(done.body.status).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
  });

  it('ends a failing rollout in ProgressDeadlineExceeded', async () => {
    server.failRollouts(NS, 'reviews-canary');
    await call('PATCH', DEP, { spec: { replicas: 3 } }, 'application/merge-patch+json');

    const failed = await waitFor(() => call('GET', DEP), (a) => JSON.stringify(a.body.status).includes('ProgressDeadlineExceeded'));

    server.failRollouts(NS, 'reviews-canary', false);
    expect(failed.body.status?.availableReplicas).toBeUndefined();
  });

  it('serves the scale subresource and lists the pods of a Deployment by label selector', async () => {
    const scaled = await call('PATCH', `${DEP}/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    const negative = await call('PATCH', `${DEP}/scale`, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    await waitFor(() => call('GET', DEP), (a) => a.body.status?.replicas === 3);
    const pods = await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('app=reviews,track=canary')}`);
    const none = await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('track=stable')}`);

    expect(scaled.body).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
    expect(negative.status).toBe(422);
    expect((await call('GET', DEP)).body.metadata?.generation).toBe(2);
    expect((pods.body.items as unknown[]).length).toBe(3);
    expect((none.body.items as unknown[]).length).toBe(0);
  });
});

describe('fault injection and record', () => {
  it('answers 500s, forced conflicts and queued failures, and records every request', async () => {
    server.failNext(503);
    const queued = await call('GET', VS);
    server.faults.conflictRate = 1;
    const forced = await call('PATCH', VS, { spec: { exportTo: ['x'] } }, 'application/merge-patch+json');
    const read = await call('GET', VS);
    server.faults.conflictRate = 0;
    server.faults.errorRate = 1;
    const broken = await call('GET', VS);

    expect([queued.status, forced.status, read.status, broken.status]).toEqual([503, 409, 200, 500]);
    expect(read.body.spec?.exportTo).toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 503', 'PATCH 409', 'GET 200', 'GET 500']);
    expect(server.requests[1]).toMatchObject({ contentType: 'application/merge-patch+json', body: { spec: { exportTo: ['x'] } } });
    expect(server.writes()).toEqual([]);
  });
});
