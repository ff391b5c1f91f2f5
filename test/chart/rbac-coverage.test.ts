// Every Kubernetes request the mesh adapters make during releases of all four strategies must be
// granted by the chart's RBAC rules. The list of requests comes from running the real adapters
// against the Kubernetes API test server, not from a hand-written list.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_STABLE, type TrafficState } from '../../src/core/traffic.js';
import { destinationRule } from '../mesh/fixtures.js';
import { KubeClusterEvents } from '../../src/mesh/release-events.js';
import { startHarness, target, type MeshHarness } from '../mesh/harness.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const rules = parse(readFileSync(new URL('../../charts/canarybot/files/rbac-rules.yaml', import.meta.url), 'utf8')) as Rule[];
const IMAGE = 'registry.example.com/bookinfo/reviews:0a1b2c3d';

/** (apiGroup, resource, verb) of a resource request, or null for discovery and health paths. */
function permissionOf(method: string, path: string, query: string): string | null {
  const parts = path.split('/').filter(Boolean);
  const [root] = parts;
  const group = root === 'api' ? '' : root === 'apis' ? parts[1] : undefined;
  const rest = root === 'api' ? parts.slice(2) : parts.slice(3);
  if (group === undefined || rest[0] !== 'namespaces') return null;
  // A cluster-scoped Namespace read: /api/v1/namespaces/<name>.
  if (rest.length === 2) return `${group}|namespaces|${method === 'GET' ? 'get' : method}`;
  if (rest.length < 3) return null;
  const [, , resource, name, sub] = rest;
  const verbs: Record<string, string> = { GET: name ? 'get' : query.includes('watch=') ? 'watch' : 'list', PATCH: 'patch', PUT: 'update', POST: 'create', DELETE: 'delete' };
  return `${group}|${resource}${sub ? `/${sub}` : ''}|${verbs[method] ?? method}`;
}

function granted(permission: string): boolean {
  const [group, resource, verb] = permission.split('|');
  return rules.some((rule) => rule.apiGroups.includes(group ?? '') && rule.resources.includes(resource ?? '') && rule.verbs.includes(verb ?? ''));
}

const traffic = (canary: number, extra: Partial<TrafficState> = {}): TrafficState => ({
  ...ALL_STABLE,
  weights: { stable: 100 - canary, canary },
  ...extra,
});

describe('chart RBAC', () => {
  let mesh: MeshHarness;
  const used = new Set<string>();

  beforeAll(async () => {
    mesh = await startHarness();
    const release = target();
    await mesh.router.preflight(release);
    await mesh.workloads.ensureCanary(release, IMAGE);
    for (const state of [
      traffic(20),
      traffic(0, { abMatch: [{ headers: { 'x-user-group': { exact: 'beta' } } }] }),
      traffic(0, { mirrorPercent: 50 }),
      traffic(0, { preview: { header: 'x-canarybot-preview', value: 'true' } }),
      traffic(100),
      ALL_STABLE,
    ]) {
      await mesh.router.setTraffic(release, state);
    }
    await mesh.workloads.ensureStable(release, IMAGE);
    await mesh.workloads.scaleCanary(release, 0);
    // A release with target.baseline: the baseline Deployment is created, weighted and removed.
    mesh.server.seed(destinationRule([
      { name: 'stable', labels: { app: 'reviews', track: 'stable' } },
      { name: 'canary', labels: { app: 'reviews', track: 'canary' } },
      { name: 'baseline', labels: { app: 'reviews', track: 'baseline' } },
    ]));
    const withBaseline = target({ baseline: { deployment: 'reviews-baseline', subset: 'baseline' } });
    await mesh.router.preflight(withBaseline);
    await mesh.workloads.ensureCanary(withBaseline, IMAGE);
    await mesh.router.setTraffic(withBaseline, { ...ALL_STABLE, weights: { stable: 80, canary: 10, baseline: 10 } });
    await mesh.router.setTraffic(withBaseline, ALL_STABLE);
    await mesh.workloads.scaleCanary(withBaseline, 0);
    await new KubeClusterEvents(mesh.registry).record(release, { reason: 'TrafficShifted', type: 'Normal', note: 'test', regarding: ['virtual-service', 'stable', 'canary'] });
    await mesh.registry.reachable('default');
    for (const request of mesh.server.requests) {
      const permission = permissionOf(request.method, request.path, request.query);
      if (permission) used.add(permission);
    }
  });

  afterAll(async () => {
    await mesh.close();
  });

  it('observes the adapters touching Istio routes and Deployments', () => {
    expect([...used]).toEqual(
      expect.arrayContaining([
        'networking.istio.io|virtualservices|patch',
        'networking.istio.io|destinationrules|list',
        'apps|deployments|patch',
        'apps|deployments|create',
        'apps|deployments|delete',
        'events.k8s.io|events|create',
      ]),
    );
  });

  it('grants every verb the code uses', () => {
    const missing = [...used].filter((permission) => !granted(permission));

    expect(missing).toEqual([]);
  });

  it('grants nothing that writes beyond routes, Deployments (create and delete for the baseline) and Events', () => {
    const writes = rules.flatMap((rule) =>
      rule.verbs.filter((verb) => ['create', 'update', 'patch', 'delete', 'deletecollection', '*'].includes(verb)).flatMap((verb) => rule.resources.map((r) => `${r}:${verb}`)),
    );

    expect(writes.sort()).toEqual(['deployments/scale:patch', 'deployments:create', 'deployments:delete', 'deployments:patch', 'events:create', 'virtualservices:patch']);
  });
});
