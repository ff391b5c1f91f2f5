// Issue 13 defect 1: a rollback never stops while traffic is on the canary. The engine with the real
// adapters (real @kubernetes/client-node over HTTPS) against the Kubernetes API test server; the
// analysis fails, and the API goes down for 10 s just as the rollback writes 100 % stable. The
// rollback must wait the outage out (saying so on the record) and land after it.

import { afterEach, describe, expect, it } from 'vitest';
import type { Release } from '../../src/core/release.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { seedBookinfo } from '../mesh/harness.js';
import { NS } from '../mesh/fixtures.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { testRedis } from '../support/redis.js';

const OUTAGE_MS = 10_000;
const { url, prefix } = testRedis();
let kube: KubeApiServer | null = null;
let engine: Engine | null = null;

afterEach(async () => {
  await engine?.close();
  await kube?.close();
  engine = null;
  kube = null;
});

function canaryWeight(server: KubeApiServer): number {
  const spec = server.object('VirtualService', NS, 'reviews')?.spec as { http: { route: { destination: { subset?: string }; weight?: number }[] }[] };
  return spec.http[0]?.route.find((route) => route.destination.subset === 'canary')?.weight ?? 0;
}

function canaryReplicas(server: KubeApiServer): number | undefined {
  return (server.object('Deployment', NS, 'reviews-canary')?.spec as { replicas?: number }).replicas;
}

describe('a rollback during a Kubernetes API outage', () => {
  it(`waits a ${OUTAGE_MS / 1000} s outage out, says it is blocked, and lands after it`, { timeout: 60_000 }, async () => {
    const server = await KubeApiServer.start({ seed: 13 });
    kube = server;
    seedBookinfo(server);
    const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: server.writeKubeconfig([server.cluster('default')]) });
    const ports = fakePorts();
    let outageStartedAt = 0;
    // The analysis fails, and the API goes down at that moment: the rollback's first write meets the outage.
    ports.gates.evaluate = async () => {
      outageStartedAt = Date.now();
      server.faults.errorRate = 1;
      setTimeout(() => {
        server.faults.errorRate = 0;
      }, OUTAGE_MS);
      return { verdict: 'fail', at: Date.now(), measurements: [{ name: 'request-success-rate', verdict: 'fail', value: 80, threshold: '>= 99' }] };
    };
    engine = await startTestEngine({
      redisUrl: url,
      prefix: `${prefix}-outage`,
      ports: { ...ports, router: new IstioTrafficRouter(registry), workloads: new KubeWorkloadController(registry) },
    });
    const definition = canaryDefinition({ name: 'reviews', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis', count: 1 }, { kind: 'setWeight', weight: 100 }] });
    await engine.trigger(triggerFor(definition, 'deadbeef'));
    const [release] = await waitFor(async () => {
      const list = await engine?.list({ service: 'reviews' });
      return list && list.length > 0 ? list : null;
    });
    const id = release?.id ?? '';

    const blocked = await waitFor(async () => {
      const current = await engine?.get(id);
      return current?.wait?.kind === 'rollback-blocked' ? current : null;
    }, 20_000, 'the release to say its rollback is blocked');
    expect(canaryWeight(server)).toBe(20);
    expect(blocked.state).toBe('rolling-back');
    expect(blocked.wait?.sentence).toMatch(/traffic.*stable/i);
    expect(blocked.wait?.sentence).toContain('K8S_UNAVAILABLE');

    const ended: Release = await waitForEnd(engine, id, 45_000);
    const landedAfterMs = Date.now() - outageStartedAt;
    process.stdout.write(`rollback during a ${OUTAGE_MS} ms Kubernetes API outage: ended ${ended.state} ${landedAfterMs} ms after the outage began\n`);
    expect(ended.state).toBe('rolled-back');
    expect(ended.wait ?? null).toBeNull();
    expect(canaryWeight(server)).toBe(0);
    expect(canaryReplicas(server)).toBe(0);
    expect(ended.audit.map((entry) => entry.action)).toContain('rollback-blocked');
  });
});
