// Issue 13 proof: the Kubernetes API at 20 % 5xx and 20 % 409 under the real engine (real Redis,
// BullMQ) and the real adapters (@kubernetes/client-node over HTTPS to the Kubernetes API test
// server). Every release converges: the healthy ones promoted, the failing one rolled back, the
// VirtualService and Deployments where they must be. The figures are printed. A pre-flight reads about
// ten objects, so at 20 % 5xx only about one try in ten gets through: the release waits (on its
// `wait`) and retries with capped full-jitter backoff, which takes tens of seconds, never a verdict.

import { afterAll, describe, expect, it } from 'vitest';
import { isLive, type Release } from '../../src/core/release.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { NS } from '../mesh/fixtures.js';
import { seedBookinfo } from '../mesh/harness.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { testRedis } from '../support/redis.js';

const ERROR_RATE = 0.2;
const CONFLICT_RATE = 0.2;
const CLUSTERS = ['c1', 'c2', 'c3'];
const { url, prefix } = testRedis();
const servers: KubeApiServer[] = [];
let engine: Engine | null = null;

afterAll(async () => {
  await engine?.close();
  await Promise.all(servers.map((server) => server.close()));
});

function observed(server: KubeApiServer) {
  const stable = server.object('Deployment', NS, 'reviews-primary')?.spec as { template: { spec: { containers: { name: string; image: string }[] } } };
  const canary = server.object('Deployment', NS, 'reviews-canary')?.spec as { replicas?: number };
  const vs = server.object('VirtualService', NS, 'reviews')?.spec as { http: { route: { destination: { subset?: string }; weight?: number }[] }[] };
  return {
    stableImage: stable.template.spec.containers.find((c) => c.name === 'reviews')?.image,
    canaryReplicas: canary.replicas,
    canaryWeight: vs.http[0]?.route.find((r) => r.destination.subset === 'canary')?.weight ?? 0,
  };
}

describe(`the Kubernetes API at ${ERROR_RATE * 100} % 5xx and ${CONFLICT_RATE * 100} % 409`, () => {
  it('every release converges under the real engine and adapters', { timeout: 240_000 }, async () => {
    // One cluster (its own API server) per release, so the releases run at once; the last one fails its analysis.
    for (const [i] of CLUSTERS.entries()) {
      const server = await KubeApiServer.start({ seed: 100 + i });
      seedBookinfo(server);
      servers.push(server);
    }
    const registry = ClusterRegistry.fromEnvironment({
      KUBECONFIG: servers[0]!.writeKubeconfig(CLUSTERS.map((name, i) => servers[i]!.cluster(name)), CLUSTERS[0]),
    });
    const failing = CLUSTERS.at(-1);
    const ports = fakePorts();
    ports.gates.evaluate = async (r) => {
      const verdict = r.cluster === failing ? 'fail' : 'pass';
      return { verdict, at: Date.now(), measurements: [{ name: 'request-success-rate', verdict, value: verdict === 'pass' ? 99.9 : 80, threshold: '>= 99' }] };
    };
    engine = await startTestEngine({
      redisUrl: url,
      prefix: `${prefix}-faults`,
      ports: { ...ports, router: new IstioTrafficRouter(registry), workloads: new KubeWorkloadController(registry) },
    });
    for (const server of servers) Object.assign(server.faults, { errorRate: ERROR_RATE, conflictRate: CONFLICT_RATE });

    const steps = [{ kind: 'setWeight' as const, weight: 20 }, { kind: 'analysis' as const, count: 1 }, { kind: 'setWeight' as const, weight: 60 }, { kind: 'setWeight' as const, weight: 100 }];
    const base = canaryDefinition({ name: 'reviews', steps });
    for (const cluster of CLUSTERS) {
      // One definition per cluster (its own slot), the same service objects.
      const definition = { ...base, name: `reviews-${cluster}`, target: { ...base.target, clusters: [cluster], virtualService: 'reviews', host: 'reviews',
        stable: { ...base.target.stable, deployment: 'reviews-primary', container: 'reviews' }, canary: { ...base.target.canary, deployment: 'reviews-canary', container: 'reviews' } } };
      await engine.trigger(triggerFor(definition, `f${CLUSTERS.indexOf(cluster)}0000000`));
    }
    const ids = await waitFor(async () => {
      const list = (await engine?.list({ limit: 20 })) ?? [];
      return list.length === CLUSTERS.length ? list.map((r) => r.id) : null;
    });
    const ended: Release[] = await Promise.all(ids.map((id) => waitForEnd(engine!, id, 170_000).catch(async (error: Error) => {
      const stuck = await engine?.get(id);
      throw new Error(`${error.message}: ${stuck?.state}/${stuck?.phase} wait=${JSON.stringify(stuck?.wait)} wakeAt=${stuck?.wakeAt} now=${Date.now()} audit=${JSON.stringify(stuck?.audit.slice(-6))}`);
    })));

    const requests = servers.reduce((sum, s) => sum + s.requests.length, 0);
    const errors = servers.reduce((sum, s) => sum + s.requests.filter((r) => r.status >= 500).length, 0);
    const conflicts = servers.reduce((sum, s) => sum + s.requests.filter((r) => r.status === 409).length, 0);
    const retries = ended.reduce((sum, r) => sum + r.audit.filter((a) => a.action === 'retry' || a.action === 'rollback-blocked').length, 0);
    process.stdout.write(`kubernetes faults: ${CLUSTERS.length} releases, ${requests} API requests, ${errors} answered 5xx, ${conflicts} answered 409 (set ${ERROR_RATE * 100} % / ${CONFLICT_RATE * 100} %), ${retries} waits for a retry; outcomes ${ended.map((r) => `${r.cluster}=${r.state}`).join(' ')}\n`);

    expect(errors).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0);
    for (const release of ended) {
      expect(isLive(release.state)).toBe(false);
      const server = servers[CLUSTERS.indexOf(release.cluster)]!;
      if (release.cluster === failing) {
        expect({ cluster: release.cluster, state: release.state }).toEqual({ cluster: failing, state: 'rolled-back' });
        expect(observed(server)).toEqual({ stableImage: 'registry.example.com/bookinfo/reviews:v1', canaryReplicas: 0, canaryWeight: 0 });
      } else {
        expect({ cluster: release.cluster, state: release.state }).toEqual({ cluster: release.cluster, state: 'succeeded' });
        expect(observed(server)).toEqual({ stableImage: release.image, canaryReplicas: 0, canaryWeight: 0 });
      }
    }
  });
});
