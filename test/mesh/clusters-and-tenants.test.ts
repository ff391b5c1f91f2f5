import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { TenantPolicy } from '../../src/mesh/tenants.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { NS } from './fixtures.js';
import { seedBookinfo, target } from './harness.js';

let east: KubeApiServer;
let west: KubeApiServer;
let registry: ClusterRegistry;

beforeAll(async () => {
  [east, west] = await Promise.all([KubeApiServer.start(), KubeApiServer.start()]);
  seedBookinfo(east);
  seedBookinfo(west);
  registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: east.writeKubeconfig([east.cluster('east'), west.cluster('west')], 'east') });
});

afterAll(async () => {
  await Promise.all([east.close(), west.close()]);
});

const weights = { stable: 80, canary: 20 };
const routeOf = (server: KubeApiServer) => (server.object('VirtualService', NS, 'reviews')?.spec as { http: { route: unknown[] }[] }).http[0]?.route;

describe('clusters', () => {
  it('sends each target to its kubeconfig context, default being the current one', async () => {
    const router = new IstioTrafficRouter(registry);

    await router.setTraffic(target({ cluster: 'west' }), { ...ALL_STABLE, weights });
    const westOnly = [east.writes().length, west.writes().length];
    await router.setTraffic(target({ cluster: 'default' }), { ...ALL_STABLE, weights });

    expect(westOnly).toEqual([0, 1]);
    expect(east.writes()).toHaveLength(1);
    expect(routeOf(east)).toEqual(routeOf(west));
    expect(registry.contexts()).toEqual(['east', 'west']);
  });

  it('refuses an unknown context with UNKNOWN_CLUSTER before any call', async () => {
    const router = new IstioTrafficRouter(registry);
    east.clearRecord();
    west.clearRecord();

    const error = await router.preflight(target({ cluster: 'north' })).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'UNKNOWN_CLUSTER', message: 'no kubeconfig context named north (known: east, west)' });
    expect(east.requests.length + west.requests.length).toBe(0);
  });

  it('turns a refused token into a terminal K8S_FORBIDDEN without retrying', async () => {
    const badToken = ClusterRegistry.fromEnvironment({ KUBECONFIG: east.writeKubeconfig([{ ...east.cluster('east'), token: 'wrong' }]) });
    east.clearRecord();

    const error = await new IstioTrafficRouter(badToken).setTraffic(target(), ALL_STABLE).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'K8S_FORBIDDEN', transient: false });
    expect(east.requests.map((request) => request.status)).toEqual([401]);
  });

  it('tells whether a cluster answers /readyz', async () => {
    const gone = await KubeApiServer.start();
    const twoClusters = ClusterRegistry.fromEnvironment({ KUBECONFIG: gone.writeKubeconfig([east.cluster('east'), gone.cluster('gone')], 'east') });
    await gone.close();

    expect(await twoClusters.reachable('east')).toBe(true);
    expect(await twoClusters.reachable('gone')).toBe(false);
    expect(await twoClusters.reachable('nowhere')).toBe(false);
    const error = await new IstioTrafficRouter(twoClusters).setTraffic(target({ cluster: 'gone' }), ALL_STABLE).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'K8S_UNAVAILABLE', transient: true });
  });
});

describe('tenants', () => {
  it('refuses a namespace outside the tenant map with zero API calls', async () => {
    const tenants = TenantPolicy.fromObject({ tenants: { bookinfo: { namespaces: ['shop'], projects: ['bookinfo/reviews'] } } });
    const router = new IstioTrafficRouter(registry, { tenants });
    const workloads = new KubeWorkloadController(registry, { tenants });
    east.clearRecord();

    const outcomes = await Promise.all([
      router.preflight(target()),
      router.setTraffic(target(), ALL_STABLE),
      workloads.ensureCanary(target(), 'reviews:v2'),
      workloads.ensureStable(target(), 'reviews:v2'),
      workloads.scaleCanary(target(), 0),
    ].map((call) => call.then(() => 'done', (error: { code: string }) => error.code)));

    expect(outcomes).toEqual(Array(5).fill('TENANT_REFUSED'));
    expect(east.requests).toHaveLength(0);
  });

  it('lets an allowed namespace through', async () => {
    const tenants = TenantPolicy.fromObject({ tenants: { bookinfo: { namespaces: [NS], projects: ['bookinfo/reviews'] } } });

    await expect(new IstioTrafficRouter(registry, { tenants }).preflight(target())).resolves.toBeUndefined();
  });
});
