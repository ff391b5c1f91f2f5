// Pre-flight against the Kubernetes API test server: each misconfiguration that would make Istio
// ignore the release's weights is refused before any write, with a sentence that says what to change.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployment, destinationRule, namespace, NS, service, virtualService } from './fixtures.js';
import { seedBookinfo, startHarness, target, type MeshHarness } from './harness.js';

let mesh: MeshHarness;

beforeAll(async () => {
  mesh = await startHarness();
});

afterAll(async () => {
  await mesh.close();
});

beforeEach(() => {
  seedBookinfo(mesh.server);
  mesh.server.seed(service());
  mesh.server.seed(namespace());
  for (const name of ['ratings-v1', 'reviews-v3']) mesh.server.remove('Deployment', NS, name);
  mesh.server.clearRecord();
});

function withTemplate(name: string, track: string, metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }) {
  const object = deployment(name, track, 1);
  Object.assign(object.spec.template.metadata, { labels: { ...object.spec.template.metadata.labels, ...metadata.labels }, ...(metadata.annotations ? { annotations: metadata.annotations } : {}) });
  return object;
}

const refusals: { name: string; arrange: () => void; sentence: string; partial?: Parameters<typeof target>[0] }[] = [
  {
    name: 'no Service behind target.host',
    arrange: () => mesh.server.remove('Service', NS, 'reviews'),
    sentence: 'Service reviews (the host reviews of target.host) does not exist in namespace bookinfo: create it, or point target.host at the Service in front of the Deployments',
  },
  {
    name: 'port with no name and no appProtocol',
    arrange: () => mesh.server.seed(service([{ port: 9080 }])),
    sentence: 'Service reviews port 9080 (with no name) is treated by Istio as plain TCP, so weights and header matches would do nothing: name it http-<suffix>, http2-<suffix> or grpc-<suffix>, or set appProtocol: http (http2, grpc)',
  },
  {
    name: 'port named tcp-web',
    arrange: () => mesh.server.seed(service([{ name: 'tcp-web', port: 9080 }])),
    sentence: 'Service reviews port 9080 ("tcp-web") is treated by Istio as plain TCP',
  },
  {
    name: 'routed port is TCP though another is HTTP',
    arrange: () => {
      mesh.server.seed(service([{ name: 'http-admin', port: 8080 }, { name: 'web', port: 9080 }]));
      mesh.server.mutate('VirtualService', NS, 'reviews', (o) => {
        const http = (o.spec as { http: { route: { destination: Record<string, unknown> }[] }[] }).http;
        (http[0]?.route[0] as { destination: Record<string, unknown> }).destination.port = { number: 9080 };
      });
    },
    sentence: 'Service reviews port 9080 ("web") is treated by Istio as plain TCP',
  },
  {
    name: 'appProtocol tcp overrides an http name',
    arrange: () => mesh.server.seed(service([{ name: 'http', port: 9080, appProtocol: 'tcp' }])),
    sentence: 'Service reviews port 9080 ("http", appProtocol tcp) is treated by Istio as plain TCP',
  },
  {
    name: 'route to a port the Service lacks',
    arrange: () => mesh.server.mutate('VirtualService', NS, 'reviews', (o) => {
      const http = (o.spec as { http: { route: { destination: Record<string, unknown> }[] }[] }).http;
      (http[0]?.route[0] as { destination: Record<string, unknown> }).destination.port = { number: 9999 };
    }),
    sentence: 'the route sends to port 9999, which Service reviews does not have: fix destination.port in the VirtualService or add the port to the Service',
  },
  {
    name: 'namespace without injection',
    arrange: () => mesh.server.seed(namespace({})),
    sentence: 'the stable pods (Deployment reviews-primary) get no Istio sidecar: label Namespace bookinfo istio-injection=enabled (or istio.io/rev=<revision>), or the pod template sidecar.istio.io/inject: "true"',
  },
  {
    name: 'namespace with injection disabled',
    arrange: () => mesh.server.seed(namespace({ 'istio-injection': 'disabled' })),
    sentence: 'Namespace bookinfo has istio-injection=disabled, so the canary pods (Deployment reviews-canary) get no Istio sidecar',
  },
  {
    name: 'canary pods opt out of the sidecar',
    arrange: () => mesh.server.seed(withTemplate('reviews-canary', 'canary', { annotations: { 'sidecar.istio.io/inject': 'false' } })),
    sentence: 'the canary pods (Deployment reviews-canary) opt out of the Istio sidecar (sidecar.istio.io/inject: "false"), so the mesh cannot route to them by weight: remove that label or annotation',
  },
  {
    name: 'subset also selects a Deployment outside the release',
    arrange: () => {
      mesh.server.seed(destinationRule([
        { name: 'stable', labels: { app: 'reviews', track: 'stable' } },
        { name: 'canary', labels: { app: 'reviews', track: 'canary' } },
      ]));
      mesh.server.seed(deployment('reviews-v3', 'stable', 0));
    },
    sentence: "DestinationRule reviews subset stable (app=reviews,track=stable) also selects the pods of Deployment reviews-v3, which is not part of this release: add a label that only Deployment reviews-primary's pod template carries (e.g. track) to the subset",
  },
  {
    name: 'VirtualService bound only to a gateway',
    arrange: () => mesh.server.mutate('VirtualService', NS, 'reviews', (o) => {
      (o.spec as Record<string, unknown>).gateways = ['bookinfo-gateway'];
    }),
    sentence: 'VirtualService reviews is bound only to bookinfo/bookinfo-gateway, so traffic between services in the mesh is not shifted: add mesh to spec.gateways, or set target.gateways to the gateway that serves this traffic',
  },
  {
    name: 'VirtualService not bound to the gateway of target.gateways',
    arrange: () => undefined,
    partial: { gateways: ['istio-system/public'] },
    sentence: 'VirtualService reviews is not bound to gateway istio-system/public (it is bound to mesh): add istio-system/public to spec.gateways',
  },
  {
    name: 'managed route matches only another gateway',
    arrange: () => mesh.server.seed(virtualService({ match: [{ gateways: ['other-gw'], uri: { prefix: '/' } }] })),
    sentence: 'the managed route of VirtualService reviews matches only other gateways (match[].gateways), so traffic through mesh is not shifted: add mesh to its match gateways',
  },
  {
    name: 'mesh traffic to a host the VirtualService does not list',
    arrange: () => mesh.server.mutate('VirtualService', NS, 'reviews', (o) => {
      (o.spec as { hosts: string[] }).hosts = ['bookinfo.example.com'];
    }),
    sentence: 'VirtualService reviews does not list reviews in spec.hosts, so traffic inside the mesh to reviews never reaches it: add reviews to spec.hosts',
  },
];

describe('mesh pre-flight refusals', () => {
  it.each(refusals)('$name: refused with what to change, zero writes', async ({ arrange, sentence, partial }) => {
    arrange();
    mesh.server.clearRecord();

    const error = await mesh.router.preflight(target(partial ?? {})).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'PREFLIGHT_FAILED', transient: false });
    expect((error as Error).message).toContain(sentence);
    expect(mesh.server.writes()).toHaveLength(0);
    expect(mesh.server.requests.every((request) => request.method === 'GET')).toBe(true);
  });
});

describe('mesh pre-flight accepts', () => {
  const accepted: { name: string; arrange: () => void; partial?: Parameters<typeof target>[0] }[] = [
    { name: 'port http', arrange: () => undefined },
    { name: 'port http2-web', arrange: () => mesh.server.seed(service([{ name: 'http2-web', port: 9080 }])) },
    { name: 'port grpc', arrange: () => mesh.server.seed(service([{ name: 'grpc', port: 9080 }])) },
    { name: 'unnamed port with appProtocol http', arrange: () => mesh.server.seed(service([{ port: 9080, appProtocol: 'http' }])) },
    { name: 'tcp-named port with appProtocol grpc', arrange: () => mesh.server.seed(service([{ name: 'tcp-x', port: 9080, appProtocol: 'grpc' }])) },
    { name: 'an HTTP port among TCP ones, no port on the route', arrange: () => mesh.server.seed(service([{ name: 'tcp-metrics', port: 9090 }, { name: 'http-web', port: 9080 }])) },
    { name: 'namespace with a revision label', arrange: () => mesh.server.seed(namespace({ 'istio.io/rev': 'canary-1-24' })) },
    {
      name: 'no namespace label, both pod templates opt in',
      arrange: () => {
        mesh.server.seed(namespace({}));
        mesh.server.seed(withTemplate('reviews-primary', 'stable', { labels: { 'sidecar.istio.io/inject': 'true' } }));
        mesh.server.seed(withTemplate('reviews-canary', 'canary', { annotations: { 'sidecar.istio.io/inject': 'true' } }));
      },
    },
    { name: 'a gateway and mesh', arrange: () => mesh.server.mutate('VirtualService', NS, 'reviews', (o) => {
      (o.spec as Record<string, unknown>).gateways = ['bookinfo-gateway', 'mesh'];
    }), partial: { gateways: ['mesh', 'bookinfo/bookinfo-gateway'] } },
    {
      name: 'another app in the namespace with labels of its own',
      arrange: () => {
        const ratings = deployment('ratings-v1', 'stable', 0);
        ratings.spec.template.metadata.labels = { app: 'ratings', track: 'stable' };
        mesh.server.seed(ratings);
      },
    },
  ];

  it.each(accepted)('$name', async ({ arrange, partial }) => {
    arrange();

    await expect(mesh.router.preflight(target(partial ?? {}))).resolves.toBeUndefined();
  });
});

describe('Kubernetes API test server: Services and Namespaces', () => {
  it('defaults protocol and targetPort, refuses unnamed ports of a multi-port Service with 422', async () => {
    const stored = mesh.server.seed(service([{ name: 'http', port: 9080 }]));
    const invalid = (() => {
      try {
        mesh.server.seed(service([{ port: 9080 }, { port: 9090 }]));
        return null;
      } catch (error) {
        return error as { code: number; message: string };
      }
    })();

    expect((stored.spec as { ports: unknown[] }).ports).toEqual([{ name: 'http', port: 9080, protocol: 'TCP', targetPort: 9080 }]);
    expect(invalid).toMatchObject({ code: 422 });
    expect(mesh.server.object('Namespace', '', NS)?.metadata).toMatchObject({ name: NS, labels: { 'istio-injection': 'enabled' } });
    expect(mesh.server.object('Namespace', '', NS)?.metadata.namespace).toBeUndefined();
  });
});
