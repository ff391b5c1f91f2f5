// Issue 13 item 13: retries happen at ONE layer, the engine's effect retry (core/decide/effect-retry.ts).
// One failed effect is one attempt against the Kubernetes API: the executor and the adapters do
// not retry underneath it. Before this change one failed effect made 12 API calls (4 executor tries
// × 3 adapter tries, none jittered) and a persistent 409 on a traffic write 41.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import type { Effect } from '../../src/core/effect.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { createExecutor, type EffectExecutor } from '../../src/engine/executor.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { fakePorts } from '../support/fakes.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { seedBookinfo } from './harness.js';

let server: KubeApiServer;
let execute: EffectExecutor;
const release = createRelease(triggerFor(canaryDefinition({ name: 'reviews' }), 'abc12345'), 'rel-1', Date.now());

beforeAll(async () => {
  server = await KubeApiServer.start();
  seedBookinfo(server);
  const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: server.writeKubeconfig([server.cluster('default')]) });
  execute = createExecutor({ ports: { ...fakePorts(), router: new IstioTrafficRouter(registry), workloads: new KubeWorkloadController(registry) } });
  // Discover the Istio version once, as a running bot has.
  await execute(release, { type: 'preflight' });
});

afterAll(async () => {
  await server.close();
});

describe('API calls per failed effect', () => {
  const rows: Array<[string, Effect, 'down' | 'conflict', number]> = [
    ['set-traffic, API down', { type: 'set-traffic', traffic: ALL_STABLE }, 'down', 1],
    ['scale-canary, API down', { type: 'scale-canary', replicas: 0 }, 'down', 1],
    ['ensure-canary, API down', { type: 'ensure-canary', image: 'registry.example.com/bookinfo/reviews:x' }, 'down', 1],
    ['ensure-stable, API down', { type: 'ensure-stable', image: 'registry.example.com/bookinfo/reviews:x' }, 'down', 1],
    ['preflight, API down', { type: 'preflight' }, 'down', 1],
    ['set-traffic, every write 409 (read + one write)', { type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 80, canary: 20 } } }, 'conflict', 2],
    ['ensure-canary, every write 409 (stable size, canary read + one write)', { type: 'ensure-canary', image: 'registry.example.com/bookinfo/reviews:y' }, 'conflict', 3],
  ];
  it.each(rows)('%s: reported transient after one attempt', async (name, effect, fault, calls) => {
    server.clearRecord();
    if (fault === 'down') server.faults.errorRate = 1;
    else server.faults.conflictRate = 1;
    const result = await execute(release, effect);
    Object.assign(server.faults, { errorRate: 0, conflictRate: 0 });
    process.stdout.write(`${name}: ${server.requests.length} API call(s)\n`);
    expect(result).toMatchObject({ type: 'effect-result', outcome: 'transient', code: fault === 'down' ? 'K8S_UNAVAILABLE' : 'K8S_CONFLICT' });
    expect(server.requests).toHaveLength(calls);
  });
});
