// How many Kubernetes API calls one 6-step canary release makes, counted by the test server: the
// calls the effect executor makes through the ports, in order, with rollouts that complete at once.

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RolloutStatus } from '../../src/core/ports.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { startHarness, target, type MeshHarness } from './harness.js';

let mesh: MeshHarness;

beforeAll(async () => {
  mesh = await startHarness();
});

afterAll(async () => {
  await mesh.close();
});

const IMAGE = 'registry.example.com/bookinfo/reviews:0a1b2c3d';

async function untilReady(poll: () => Promise<RolloutStatus>): Promise<number> {
  for (let polls = 1; polls <= 100; polls += 1) {
    if ((await poll()).state === 'ready') return polls;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('rollout never became ready');
}

it('counts the API calls of a 6-step canary release', async () => {
  const calls: Record<string, number> = {};
  const phase = async (name: string, run: () => Promise<unknown>): Promise<void> => {
    const before = mesh.server.requests.length;
    await run();
    calls[name] = mesh.server.requests.length - before;
  };
  const release = target();

  await phase('preflight', () => mesh.router.preflight(release));
  await phase('ensureCanary', () => mesh.workloads.ensureCanary(release, IMAGE));
  let canaryPolls = 0;
  await phase('canary rollout polls', async () => (canaryPolls = await untilReady(() => mesh.workloads.ensureCanary(release, IMAGE))));
  for (const [i, weight] of [10, 20, 40, 60, 80, 100].entries()) {
    await phase(`setWeight ${weight} (step ${i + 1})`, () => mesh.router.setTraffic(release, { ...ALL_STABLE, weights: { stable: 100 - weight, canary: weight } }));
  }
  await phase('ensureStable', () => mesh.workloads.ensureStable(release, IMAGE));
  let stablePolls = 0;
  await phase('stable rollout polls', async () => (stablePolls = await untilReady(() => mesh.workloads.ensureStable(release, IMAGE))));
  await phase('traffic back to stable', () => mesh.router.setTraffic(release, ALL_STABLE));
  await phase('scale canary to 0', () => mesh.workloads.scaleCanary(release, 0));
  const total = mesh.server.requests.length;
  const writes = mesh.server.writes().length;
  console.log(JSON.stringify({ total, writes, canaryPolls, stablePolls, calls }));

  expect(calls).toMatchObject({
    // discovery, VirtualService, DestinationRules, 2 Deployments, Service, Namespace, Deployments list
    preflight: 8,
    ensureCanary: 3,
    'setWeight 10 (step 1)': 2,
    'setWeight 100 (step 6)': 2,
    ensureStable: 2,
    'traffic back to stable': 2,
    'scale canary to 0': 2,
  });
  expect(calls['canary rollout polls']).toBe(2 * canaryPolls);
  expect(calls['stable rollout polls']).toBe(stablePolls);
  expect(total).toBe(29 + 2 * canaryPolls + stablePolls);
  expect(writes).toBe(10);
  expect(mesh.server.requests.every((request) => request.status < 300)).toBe(true);
});
