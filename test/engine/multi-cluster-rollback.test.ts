// Issue 13 defect 12 end to end: two kubeconfig contexts (`eu`, `us`), each a Kubernetes API test
// server of its own, the engine with the real adapters. The release is promoted on `eu`, fails its
// analysis on `us`: `us` is rolled back, then `eu` (100 % stable, then its previous stable image).
// With `onFailure: keepPromoted`, `eu` keeps the new image.

import { afterEach, describe, expect, it } from 'vitest';
import type { OnFailure } from '../../src/core/definition.js';
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

const { url, prefix } = testRedis();
const OLD = 'registry.example.com/bookinfo/reviews:v1';
const servers: KubeApiServer[] = [];
let engine: Engine | null = null;
let run = 0;

afterEach(async () => {
  await engine?.close();
  engine = null;
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function state(server: KubeApiServer) {
  const stable = server.object('Deployment', NS, 'reviews-primary')?.spec as { template: { spec: { containers: { name: string; image: string }[] } } };
  const canary = server.object('Deployment', NS, 'reviews-canary')?.spec as { replicas?: number };
  const vs = server.object('VirtualService', NS, 'reviews')?.spec as { http: { route: { destination: { subset?: string }; weight?: number }[] }[] };
  return {
    stableImage: stable.template.spec.containers.find((c) => c.name === 'reviews')?.image,
    canaryReplicas: canary.replicas,
    canaryWeight: vs.http[0]?.route.find((r) => r.destination.subset === 'canary')?.weight ?? 0,
  };
}

async function release(onFailure?: OnFailure) {
  const [eu, us] = await Promise.all([KubeApiServer.start({ seed: 1 }), KubeApiServer.start({ seed: 2 })]);
  servers.push(eu, us);
  seedBookinfo(eu);
  seedBookinfo(us);
  const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: eu.writeKubeconfig([eu.cluster('eu'), us.cluster('us')], 'eu') });
  const ports = fakePorts();
  ports.gates.evaluate = async (r) => {
    const verdict = r.cluster === 'us' ? 'fail' : 'pass';
    return { verdict, at: Date.now(), measurements: [{ name: 'request-success-rate', verdict, value: verdict === 'pass' ? 99.9 : 80, threshold: '>= 99' }] };
  };
  engine = await startTestEngine({
    redisUrl: url,
    prefix: `${prefix}-mc-${++run}`,
    ports: { ...ports, router: new IstioTrafficRouter(registry), workloads: new KubeWorkloadController(registry) },
  });
  const base = canaryDefinition({ name: 'reviews', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis', count: 1 }, { kind: 'setWeight', weight: 100 }] });
  const definition = { ...base, target: { ...base.target, clusters: ['eu', 'us'] }, ...(onFailure ? { onFailure } : {}) };
  const trigger = triggerFor(definition, 'feedf00d');
  await engine.trigger(trigger);
  const [created] = await waitFor(async () => {
    const list = await engine?.list({ service: 'reviews' });
    return list && list.length > 0 ? list : null;
  });
  const ended = await waitForEnd(engine, created?.id ?? '', 30_000);
  return { ended, eu: state(eu), us: state(us), image: trigger.image };
}

describe('a release that fails on its second cluster', () => {
  it('rolls back the cluster it had promoted (default onFailure: rollback)', { timeout: 60_000 }, async () => {
    const { ended, eu, us } = await release();
    expect(ended.state).toBe('rolled-back');
    expect(us).toEqual({ stableImage: OLD, canaryReplicas: 0, canaryWeight: 0 });
    expect(eu).toEqual({ stableImage: OLD, canaryReplicas: 0, canaryWeight: 0 });
    expect(ended.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['cluster-promoted', 'cluster-rolled-back', 'cluster-rolling-back', 'stable-restored']));
  });

  it('keeps it with onFailure: keepPromoted', { timeout: 60_000 }, async () => {
    const { ended, eu, us, image } = await release('keepPromoted');
    expect(ended.state).toBe('rolled-back');
    expect(us).toEqual({ stableImage: OLD, canaryReplicas: 0, canaryWeight: 0 });
    expect(eu).toEqual({ stableImage: image, canaryReplicas: 0, canaryWeight: 0 });
  });
});
