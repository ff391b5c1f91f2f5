// target.baseline against the Kubernetes API test server with the real client: pre-flight checks of
// the baseline subset, the baseline Deployment made from stable's template for the release and gone
// with the canary, a user's own baseline Deployment used in place, and the three-way route weights.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CanarybotError } from '../../src/core/errors.js';
import { ALL_STABLE } from '../../src/core/traffic.js';
import { BASELINE_ANNOTATION } from '../../src/mesh/baseline-deployment.js';
import { deployment, destinationRule, NS } from './fixtures.js';
import { httpRoutes, startHarness, target, type MeshHarness } from './harness.js';

const BASELINE = { deployment: 'reviews-baseline', subset: 'baseline' };
const withBaseline = target({ baseline: BASELINE });
type Subset = { name: string; labels: Record<string, string> };
const SUBSETS: Subset[] = [
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

type DeploymentObject = { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string }[] } } } };
const stored = (name: string) => mesh.server.object('Deployment', NS, name) as unknown as DeploymentObject | undefined;

describe('pre-flight with a baseline', () => {
  it('passes when the baseline subset selects only the baseline pods it will create', async () => {
    await expect(mesh.router.preflight(withBaseline)).resolves.toBeUndefined();
  });

  it.each<[string, Subset[], RegExp]>([
    ['no baseline subset', SUBSETS.slice(0, 2), /has no subset baseline \(target.baseline.subset\)/],
    ['a subset that also selects stable', [...SUBSETS.slice(0, 2), { name: 'baseline', labels: { app: 'reviews' } }], /subset baseline \(app=reviews\) also selects the pods of Deployment reviews-primary/],
    ['a stable subset that would select the baseline', [{ name: 'stable', labels: { app: 'reviews' } }, SUBSETS[1]!, { name: 'baseline', labels: { role: 'baseline' } }], /subset stable \(app=reviews\) would also select the baseline pods canarybot would create/],
  ])('refuses %s', async (_name, subsets, message) => {
    mesh.server.seed(destinationRule(subsets));

    const failure = await mesh.router.preflight(withBaseline).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CanarybotError);
    expect((failure as CanarybotError).code).toBe('PREFLIGHT_FAILED');
    expect((failure as Error).message).toMatch(message);
  });
});

describe('the baseline Deployment', () => {
  it('is created from stable\'s template with the stable image at the canary\'s size, and deleted with the canary', async () => {
    const before = stored('reviews-baseline');

    const status = await mesh.workloads.ensureCanary(withBaseline, 'registry.example.com/bookinfo/reviews:v2', 2);
    const created = stored('reviews-baseline')!;
    await mesh.workloads.ensureCanary(withBaseline, 'registry.example.com/bookinfo/reviews:v2', 2);
    const writesBeforeScaleDown = mesh.server.writes().length;
    await mesh.workloads.scaleCanary(withBaseline, 0);

    expect(before).toBeUndefined();
    expect(status.state).not.toBe('failed');
    expect(created.metadata.annotations).toEqual({ [BASELINE_ANNOTATION]: 'reviews-primary' });
    expect(created.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'canarybot' });
    expect(created.spec.replicas).toBe(2);
    expect(created.spec.selector.matchLabels).toEqual({ app: 'reviews', track: 'baseline' });
    expect(created.spec.template.metadata.labels).toEqual({ app: 'reviews', track: 'baseline' });
    expect(created.spec.template.spec.containers.map((c) => c.image)).toEqual(['registry.example.com/bookinfo/reviews:v1', 'proxy:1']);
    expect(stored('reviews-canary')!.spec.template.spec.containers[0]!.image).toBe('registry.example.com/bookinfo/reviews:v2');
    // The second ensureCanary wrote nothing: both were already as wanted.
    expect(writesBeforeScaleDown).toBe(2);
    expect(mesh.server.writes().map((w) => `${w.method} ${w.path}${w.query}`)).toEqual([
      `PATCH /apis/apps/v1/namespaces/${NS}/deployments/reviews-canary?fieldManager=canarybot`,
      `POST /apis/apps/v1/namespaces/${NS}/deployments?fieldManager=canarybot`,
      `PATCH /apis/apps/v1/namespaces/${NS}/deployments/reviews-canary/scale?fieldManager=canarybot`,
      `DELETE /apis/apps/v1/namespaces/${NS}/deployments/reviews-baseline`,
    ]);
    expect(stored('reviews-baseline')).toBeUndefined();
    expect(stored('reviews-canary')!.spec.replicas).toBe(0);
  });

  it('uses a Deployment the team keeps in place, and only scales it to 0', async () => {
    mesh.server.seed(deployment('reviews-baseline', 'baseline', 0, 'registry.example.com/bookinfo/reviews:old'));

    await mesh.workloads.ensureCanary(withBaseline, 'registry.example.com/bookinfo/reviews:v2', 3);
    const running = stored('reviews-baseline')!;
    await mesh.workloads.scaleCanary(withBaseline, 0);

    expect(running.spec.replicas).toBe(3);
    expect(running.spec.template.spec.containers[0]!.image).toBe('registry.example.com/bookinfo/reviews:v1');
    expect(stored('reviews-baseline')!.spec.replicas).toBe(0);
  });
});

describe('route weights with a baseline', () => {
  it('mirrors to canary and baseline with `mirrors`, which the API server\'s Istio schema accepts', async () => {
    await mesh.router.setTraffic(withBaseline, { ...ALL_STABLE, weights: { stable: 100, canary: 0, baseline: 0 }, mirrorPercent: 30 });
    const mirrored = structuredClone(httpRoutes(mesh.server)[0]!);
    await mesh.router.setTraffic(withBaseline, ALL_STABLE);

    expect(mirrored.mirrors).toEqual([
      { destination: { host: 'reviews', subset: 'canary' }, percentage: { value: 30 } },
      { destination: { host: 'reviews', subset: 'baseline' }, percentage: { value: 30 } },
    ]);
    expect(httpRoutes(mesh.server)[0]!.mirrors).toBeUndefined();
  });

  it('writes the canary\'s weight to the baseline, and 100 % stable on rollback', async () => {
    await mesh.router.setTraffic(withBaseline, { ...ALL_STABLE, weights: { stable: 80, canary: 10, baseline: 10 } });
    const split = structuredClone(httpRoutes(mesh.server));
    await mesh.router.setTraffic(withBaseline, ALL_STABLE);

    expect(split[0]!.route).toEqual([
      { destination: { host: 'reviews', subset: 'stable' }, weight: 80 },
      { destination: { host: 'reviews', subset: 'canary' }, weight: 10 },
      { destination: { host: 'reviews', subset: 'baseline' }, weight: 10 },
    ]);
    expect(httpRoutes(mesh.server)[0]!.route).toEqual([{ destination: { host: 'reviews', subset: 'stable' }, weight: 100 }]);
  });
});
