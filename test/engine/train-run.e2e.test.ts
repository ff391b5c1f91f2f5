// A release train end to end on the Kubernetes API test server (real @kubernetes/client-node, real
// adapters) with simulated traffic through productpage → reviews → ratings that carries the lane
// header — or loses it on the way to ratings. An invariant checker looks at every VirtualService
// write: weights sum to 100, and no lane route points at a canary without ready endpoints.

import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ports } from '../../src/core/ports.js';
import type { TrainRun } from '../../src/core/train/train-run.js';
import { COHORT_HEADER, LANE_HEADER, TRAIN_DEFINITION, TRAIN_NAME, TRAIN_NAMESPACE, TRAIN_SERVICES, trainChain, trainImage, trainKubeSeed, trainMemberDefinition } from '../../src/demo/bookinfo-train.js';
import { LaneTraffic } from '../../src/demo/lane-traffic.js';
import { FAILING } from '../../src/demo/simulated-traffic.js';
import { TrainRunner } from '../../src/engine/train-runner.js';
import { createGateEvaluator } from '../../src/gates/gate-evaluator.js';
import { ClusterRegistry } from '../../src/mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../../src/mesh/traffic-router.js';
import { KubeWorkloadController } from '../../src/mesh/workload-controller.js';
import { FakeClock, RecordingNotifier, RecordingReplier, RecordingReporter } from '../support/fakes.js';
import { KubeApiServer } from '../support/kube-api-server.js';
import { MeshWatch } from '../support/train-mesh-watch.js';

interface World {
  runner: TrainRunner;
  kube: KubeApiServer;
  traffic: LaneTraffic;
  watch: MeshWatch;
  /** Requests per second that reached each canary, sampled when the lane was open. */
  cohortSample: Record<string, { all: number; cohort: number }> | null;
  close(): Promise<void>;
}

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

async function startWorld(drops: string[] = [], failing: string[] = []): Promise<World> {
  const kube = await KubeApiServer.start({ rolloutDelayMs: 150, tls: false });
  for (const object of trainKubeSeed()) kube.seed(object);
  kube.clearRecord();
  const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]) });
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-train-e2e-'));
  for (const service of TRAIN_SERVICES) writeFileSync(join(dir, `${service}.yaml`), trainMemberDefinition(service));
  writeFileSync(join(dir, 'train.yaml'), TRAIN_DEFINITION);
  const { definitions, trains, errors } = await loadDefinitions(dir);
  expect(errors).toEqual([]);
  const traffic = new LaneTraffic({
    namespace: TRAIN_NAMESPACE,
    chain: trainChain(),
    virtualService: (service) => kube.object('VirtualService', TRAIN_NAMESPACE, service),
    requestsPerSecond: 20,
    cohort: { share: 0.25, headers: COHORT_HEADER },
    propagated: [LANE_HEADER, 'baggage'],
    drops: new Set(drops),
    health: Object.fromEntries(failing.map((service) => [`${service}-canary`, FAILING])),
  });
  const clock = new FakeClock();
  const ports: Ports = {
    router: new IstioTrafficRouter(registry),
    workloads: new KubeWorkloadController(registry),
    gates: createGateEvaluator({ metrics: traffic }),
    reporter: new RecordingReporter(),
    notifier: new RecordingNotifier(),
    replier: new RecordingReplier(),
    clock,
  };
  const watch = new MeshWatch(kube);
  const state: World = {
    kube,
    traffic,
    watch,
    cohortSample: null,
    runner: new TrainRunner({
      ports,
      definitions,
      trains,
      onEvent: (_run, event) => {
        if (event === 'lane-open') state.cohortSample = traffic.flows();
      },
    }),
    close: async () => {
      await state.runner.close();
      await kube.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return state;
}

async function runTrain(w: World, approve = true): Promise<TrainRun> {
  const started = await w.runner.start(TRAIN_NAME, Object.fromEntries(TRAIN_SERVICES.map((service) => [service, { image: trainImage(service, 'v2') }])), {
    username: 'rm',
    channel: 'gitlab',
  });
  if (!started.ok) throw new Error(started.message);
  const id = started.run.id;
  if (approve) {
    const timer = setInterval(() => {
      if (w.runner.get(id)?.state === 'awaiting-approval') void w.runner.command(id, { type: 'command', verb: 'approve', actor: { username: 'rm', channel: 'gitlab' } });
    }, 50);
    try {
      return await w.runner.whenEnded(id);
    } finally {
      clearInterval(timer);
    }
  }
  return w.runner.whenEnded(id);
}

const stableImage = (kube: KubeApiServer, service: string): string =>
  ((kube.object('Deployment', TRAIN_NAMESPACE, `${service}-primary`)?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image ?? '');

describe('a release train on the Kubernetes API test server', () => {
  it('lane routes only after every canary is ready, the entry last; cohort requests reach every canary and nobody else does; leaf-first promotion, lane routes removed last', async () => {
    world = await startWorld();

    const run = await runTrain(world);

    expect(run.state).toBe('succeeded');
    expect(world.watch.violations).toEqual([]);
    const events = world.watch.events;
    // Readiness is seen at the next write, so the three canaries' order among themselves is open.
    expect(events.slice(0, 3).sort()).toEqual(['productpage canary ready', 'ratings canary ready', 'reviews canary ready']);
    expect(events.slice(3)).toEqual([
      'reviews lane route',
      'ratings lane route',
      'entry open',
      'entry closed',
      'reviews lane route removed',
      'ratings lane route removed',
      'productpage canary scaled to 0',
      'reviews canary scaled to 0',
      'ratings canary scaled to 0',
    ]);
    // The cohort is 25 % of 20 requests per second: all of it reaches every canary, nothing else does.
    for (const service of TRAIN_SERVICES) {
      expect(world.cohortSample?.[`${service}-canary`]).toEqual({ all: 5, cohort: 5 });
      expect(world.cohortSample?.[`${service}-primary`]).toEqual({ all: 15, cohort: 0 });
    }
    const promoted = run.audit.filter((entry) => entry.action === 'member-promoted').map((entry) => entry.detail?.split(' ')[0]);
    expect(promoted).toEqual(['ratings', 'reviews', 'productpage']);
    for (const service of TRAIN_SERVICES) expect(stableImage(world.kube, service)).toBe(trainImage(service, 'v2'));
  });

  it('a member whose caller drops the lane header is reported as not propagating the tag and the whole train rolls back, entry first', async () => {
    world = await startWorld(['reviews']);

    const run = await runTrain(world, false);

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toMatch(/^ratings is not propagating the tag: its canary got no lane requests while productpage's got 300 /);
    expect(run.members.find((member) => member.name === 'ratings')?.lastCheck).toMatchObject({ verdict: 'inconclusive', laneRequests: 0 });
    expect(run.members.find((member) => member.name === 'reviews')?.lastCheck).toMatchObject({ verdict: 'pass', laneRequests: 300 });
    expect(world.watch.violations).toEqual([]);
    const events = world.watch.events;
    expect(events.slice(events.indexOf('entry open'))).toEqual([
      'entry open',
      'entry closed',
      'reviews lane route removed',
      'ratings lane route removed',
      'productpage canary scaled to 0',
      'reviews canary scaled to 0',
      'ratings canary scaled to 0',
    ]);
    for (const service of TRAIN_SERVICES) expect(stableImage(world.kube, service)).toBe(trainImage(service, 'v1'));
  });

  it('a failing member rolls the whole train back in order: entry closed, lane routes removed, canaries scaled down', async () => {
    world = await startWorld([], ['reviews']);

    const run = await runTrain(world, false);

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toMatch(/^reviews: 7\d(\.\d+)?% is below the minimum/);
    expect(world.watch.violations).toEqual([]);
    const events = world.watch.events;
    expect(events.slice(events.indexOf('entry closed'))).toEqual([
      'entry closed',
      'reviews lane route removed',
      'ratings lane route removed',
      'productpage canary scaled to 0',
      'reviews canary scaled to 0',
      'ratings canary scaled to 0',
    ]);
  });

  it('the invariant checker catches a lane route to a canary without ready endpoints', async () => {
    world = await startWorld();
    const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: world.kube.writeKubeconfig([world.kube.cluster('default')]) });
    const { definitions } = await loadDefinitions('test/fixtures/trains');
    const ratings = definitions.find((definition) => definition.name === 'ratings');
    if (!ratings) throw new Error('no ratings fixture');

    await new IstioTrafficRouter(registry).setTraffic(
      { ...ratings.target, route: 'primary', cluster: 'default', service: 'ratings', project: 'bookinfo/ratings' },
      { weights: { stable: 100, canary: 0 }, mirrorPercent: 0, abMatch: null, preview: null, lane: { match: [{ headers: { [LANE_HEADER]: { exact: 'x' } } }], setHeader: null } },
    );

    expect(world.watch.violations).toEqual(['ratings route canarybot-ratings-lane sends traffic to the canary subset without ready endpoints']);
  });
});
