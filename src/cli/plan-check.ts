// `canarybot plan --check`: the mesh pre-flight of a definition against the live cluster(s) of its
// kubeconfig, read-only, so a platform engineer can verify a new service before its first release.

import type { Definition } from '../core/definition.js';
import { CanarybotError } from '../core/errors.js';
import type { ReleaseTarget } from '../core/ports.js';
import { ClusterRegistry } from '../mesh/cluster-registry.js';
import { TenantPolicy } from '../mesh/tenants.js';
import { IstioTrafficRouter } from '../mesh/traffic-router.js';
import type { CliIo } from './io.js';

/** Prints one block per cluster; true when every cluster passes. */
export async function checkMesh(definition: Definition, io: CliIo): Promise<boolean> {
  const registry = ClusterRegistry.fromEnvironment(io.env as NodeJS.ProcessEnv);
  const router = new IstioTrafficRouter(registry, { tenants: TenantPolicy.fromEnvironment(io.env as NodeJS.ProcessEnv) });
  let ok = true;
  io.stdout.write('\nmesh check (read-only):\n');
  for (const cluster of definition.target.clusters) {
    const target: ReleaseTarget = { ...definition.target, cluster, service: definition.name, project: definition.trigger.project };
    let problems: string[];
    try {
      problems = await router.meshProblems(target);
    } catch (error) {
      if (!(error instanceof CanarybotError)) throw error;
      problems = [error.message];
    }
    if (problems.length === 0) {
      io.stdout.write(`  ✓ ${cluster}: ready — Service port carries HTTP, sidecars injected, subsets select only their Deployments, VirtualService bound to ${(definition.target.gateways ?? ['mesh']).join(', ')}\n`);
      continue;
    }
    ok = false;
    io.stdout.write(`  ✗ ${cluster}: a release would be refused:\n`);
    for (const problem of problems) io.stdout.write(`    - ${problem}\n`);
  }
  return ok;
}
