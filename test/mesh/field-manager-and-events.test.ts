// Every write canarybot makes to the Kubernetes API names fieldManager=canarybot (so Argo CD's
// `managedFieldsManagers: [canarybot]` ignores exactly canarybot's fields), and each traffic change,
// promotion and rollback leaves an Event on the VirtualService and the Deployment it changed,
// readable through both core/v1 and events.k8s.io/v1. A failed Event write never fails the effect.

import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effect.js';
import type { Release } from '../../src/core/release.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { createExecutor } from '../../src/engine/executor.js';
import { FIELD_MANAGER } from '../../src/mesh/field-manager.js';
import { KubeClusterEvents } from '../../src/mesh/release-events.js';
import { fakePorts } from '../support/fakes.js';
import { releaseRecord, reviewsDefinition, reviewsTarget } from '../support/release-fixture.js';
import { destinationRule, NS } from './fixtures.js';
import { startHarness, type MeshHarness } from './harness.js';

const IMAGE = 'registry.example.com/bookinfo/reviews:0a1b2c3d';
const SUBSETS = [
  { name: 'stable', labels: { app: 'reviews', track: 'stable' } },
  { name: 'canary', labels: { app: 'reviews', track: 'canary' } },
  { name: 'baseline', labels: { app: 'reviews', track: 'baseline' } },
];

let mesh: MeshHarness;
beforeEach(async () => {
  mesh = await startHarness();
  mesh.server.seed(destinationRule(SUBSETS));
  mesh.server.clearRecord();
});
afterEach(async () => {
  await mesh.close();
});

function releaseIn(state: Release['state'], baseline = false): Release {
  const definition = reviewsDefinition({
    target: reviewsTarget({ namespace: NS, settleMs: 0, ...(baseline ? { baseline: { deployment: 'reviews-baseline', subset: 'baseline' } } : {}) }),
  });
  return releaseRecord({ definition, namespace: NS, image: IMAGE, state, stepIndex: 2 });
}

function executor() {
  const ports = { ...fakePorts(), router: mesh.router, workloads: mesh.workloads, events: new KubeClusterEvents(mesh.registry, { instance: 'canarybot-0' }) };
  return createExecutor({ ports });
}

async function untilOk(execute: ReturnType<typeof executor>, release: Release, effect: Effect): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const result = await execute(release, effect);
    if (result?.type === 'effect-result' && result.outcome === 'ok') return;
    if (result?.type === 'effect-result' && result.outcome !== 'progressing') throw new Error(JSON.stringify(result));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('never ok');
}

/** Every effect of a promoted release with a baseline, then a rollback, through the real adapters. */
async function wholeRelease(): Promise<void> {
  const execute = executor();
  await untilOk(execute, releaseIn('pending', true), { type: 'preflight' });
  await untilOk(execute, releaseIn('deploying', true), { type: 'ensure-canary', image: IMAGE, replicas: 2 });
  await untilOk(execute, releaseIn('progressing', true), { type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 60, canary: 20, baseline: 20 } } });
  await untilOk(execute, releaseIn('promoting', true), { type: 'ensure-stable', image: IMAGE });
  await untilOk(execute, releaseIn('promoting', true), { type: 'set-traffic', traffic: ALL_STABLE });
  await untilOk(execute, releaseIn('promoting', true), { type: 'scale-canary', replicas: 0 });
  await untilOk(execute, releaseIn('deploying'), { type: 'ensure-canary', image: IMAGE, replicas: 1 });
  await untilOk(execute, releaseIn('progressing'), { type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 90, canary: 10 } } });
  await untilOk(execute, releaseIn('rolling-back'), { type: 'set-traffic', traffic: ALL_STABLE });
  await untilOk(execute, releaseIn('rolling-back'), { type: 'scale-canary', replicas: 0 });
}

describe('fieldManager', () => {
  it('is canarybot on every create, patch and update the API server receives', async () => {
    await wholeRelease();

    const writes = mesh.server.writes().filter((write) => write.method !== 'DELETE');
    const kinds = new Set(writes.map((write) => /\/namespaces\/[^/]+\/([a-z]+)/.exec(write.path)?.[1]));
    expect(FIELD_MANAGER).toBe('canarybot');
    expect(writes.length).toBeGreaterThanOrEqual(15);
    // Deployments (create, JSON patch, scale), the VirtualService, Events.
    expect([...kinds].sort()).toEqual(['deployments', 'events', 'virtualservices']);
    expect(writes.some((write) => write.method === 'POST' && write.path.endsWith('/deployments'))).toBe(true);
    expect(writes.some((write) => write.path.endsWith('/scale'))).toBe(true);
    expect(writes.filter((write) => new URLSearchParams(write.query).get('fieldManager') !== 'canarybot').map((write) => `${write.method} ${write.path}`)).toEqual([]);
    // DELETE has no field manager in the Kubernetes API; the baseline's is the only one.
    expect(mesh.server.writes().filter((write) => write.method === 'DELETE').map((write) => write.path)).toEqual(['/apis/apps/v1/namespaces/bookinfo/deployments/reviews-baseline']);
  });

  it('makes canarybot the owner of the route weights and the images and replicas it set', async () => {
    await wholeRelease();

    const vs = mesh.server.object('VirtualService', NS, 'reviews')!;
    const canary = mesh.server.object('Deployment', NS, 'reviews-canary')!;
    const managers = (object: typeof vs) => (object.metadata.managedFields as { manager: string; fieldsV1: Record<string, unknown>; subresource?: string }[]);
    expect(managers(vs).find((entry) => entry.manager === 'canarybot')?.fieldsV1).toEqual({ 'f:spec': { 'f:http': {} } });
    const canaryFields = managers(canary).filter((entry) => entry.manager === 'canarybot');
    expect(JSON.stringify(canaryFields)).toContain('"k:{\\"name\\":\\"reviews\\"}":{"f:image":{}}');
    expect(canaryFields.some((entry) => entry.subresource === 'scale' && JSON.stringify(entry.fieldsV1) === '{"f:spec":{"f:replicas":{}}}')).toBe(true);
  });
});

describe('Kubernetes Events', () => {
  it('say what canarybot did on the VirtualService and the Deployments it changed', async () => {
    await wholeRelease();

    const events = mesh.server.events(NS).map((event) => `${(event.involvedObject as { kind: string; name: string }).kind}/${(event.involvedObject as { name: string }).name} ${String(event.reason)} ${String(event.type)}`);
    expect(events).toEqual([
      'Deployment/reviews-canary CanaryDeployed Normal',
      'VirtualService/reviews TrafficShifted Normal',
      'Deployment/reviews-primary Promoted Normal',
      'VirtualService/reviews Promoted Normal',
      'Deployment/reviews-canary ScaledDown Normal',
      'Deployment/reviews-canary CanaryDeployed Normal',
      'VirtualService/reviews TrafficShifted Normal',
      'VirtualService/reviews RolledBack Warning',
      'Deployment/reviews-canary ScaledDown Normal',
    ]);
    const shifted = mesh.server.events(NS)[1]!;
    expect(shifted.message).toBe('canarybot release rel-1 step 3: stable 60 %, canary 20 %');
    expect(shifted.reportingComponent).toBe('canarybot.io/canarybot');
    expect(shifted.reportingInstance).toBe('canarybot-0');
  });

  it('are served by core/v1 and events.k8s.io/v1 alike, in each API\'s shape', async () => {
    await untilOk(executor(), releaseIn('progressing'), { type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 75, canary: 25 } } });
    const { kubeConfig } = mesh.registry.client('default');
    const coreApi = kubeConfig.makeApiClient(CoreV1Api);
    const eventsApi = kubeConfig.makeApiClient(EventsV1Api);

    const core = (await coreApi.listNamespacedEvent({ namespace: NS })).items[0]!;
    const v1 = (await eventsApi.listNamespacedEvent({ namespace: NS })).items[0]!;

    expect(core).toMatchObject({ apiVersion: 'v1', kind: 'Event', reason: 'TrafficShifted', message: expect.stringContaining('canary 25 %'), involvedObject: { kind: 'VirtualService', name: 'reviews' } });
    expect(v1).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'Event', reason: 'TrafficShifted', note: core.message, regarding: core.involvedObject, reportingController: 'canarybot.io/canarybot' });
    expect(v1).not.toHaveProperty('message');
    expect(String(v1.eventTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('never fail the change they describe', async () => {
    mesh.server.beforeHandle = ({ path }) => {
      if (path.endsWith('/events')) throw new Error('events are down');
    };

    const result = await executor()(releaseIn('progressing'), { type: 'set-traffic', traffic: { ...ALL_STABLE, weights: { stable: 75, canary: 25 } } });

    expect(result).toEqual({ type: 'effect-result', effect: 'set-traffic', outcome: 'ok' });
    expect(mesh.server.events(NS)).toEqual([]);
    expect(mesh.server.requests.filter((request) => request.path.endsWith('/events')).map((request) => request.status)).toEqual([500]);
  });
});
