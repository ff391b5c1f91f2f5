// The core and the executor in a loop on the real clock, as the engine runs them (without the
// queue), with the real mesh, GitOps and sync-controller adapters against the API test servers:
// the shared driver of the end-to-end tests beside a simulated Argo CD or Flux.

import { decide } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import type { Input } from '../../src/core/input.js';
import { isLive, type Release } from '../../src/core/release.js';
import { createExecutor } from '../../src/engine/executor.js';
import { createGitLabConfigRepository } from '../../src/gitops/gitlab-config-repository.js';
import { createGitOpsAdapter } from '../../src/gitops/gitops-adapter.js';
import { inProcessRepositoryLock } from '../../src/gitops/repository-lock.js';
import { createSyncController } from '../../src/gitops/sync-controller.js';
import { KubeClusterEvents } from '../../src/mesh/release-events.js';
import type { MeshHarness } from '../mesh/harness.js';
import { fakePorts } from '../support/fakes.js';
import type { GitLabApiServer } from '../support/gitlab-api-server.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function gitopsExecutor(mesh: MeshHarness, gitlab: GitLabApiServer) {
  const gitops = createGitOpsAdapter({ repository: createGitLabConfigRepository({ url: gitlab.url, token: gitlab.token }), lock: inProcessRepositoryLock(), controller: createSyncController(mesh.registry) });
  return createExecutor({ ports: { ...fakePorts(), router: mesh.router, workloads: mesh.workloads, events: new KubeClusterEvents(mesh.registry), gitops } });
}

/** Run `start` to its end (or the budget); `onState` sees each new state/step once. */
export async function runRelease(mesh: MeshHarness, gitlab: GitLabApiServer, start: Release, onState?: (release: Release) => Promise<void>, budgetMs = 45_000): Promise<Release> {
  const execute = gitopsExecutor(mesh, gitlab);
  let r = start;
  const pending: Effect[] = [];
  let wake: { at: number; key: string } | null = null;
  const apply = (input: Input) => {
    const decision = decide(r, input, Date.now());
    r = decision.next;
    for (const effect of decision.effects) {
      if (effect.type === 'schedule-tick') wake = { at: effect.at, key: effect.key };
      else pending.push(effect);
    }
  };
  apply({ type: 'start' });
  const seen = new Set<string>();
  for (const until = Date.now() + budgetMs; isLive(r.state) && Date.now() < until; ) {
    while (pending.length > 0) {
      const input = await execute(r, pending.shift()!);
      if (input) apply(input);
    }
    if (onState && !seen.has(`${r.state}/${r.stepIndex}`)) {
      seen.add(`${r.state}/${r.stepIndex}`);
      await onState(r);
    }
    if (!isLive(r.state) || wake === null) break;
    const due: { at: number; key: string } = wake;
    wake = null;
    await sleep(Math.max(0, due.at - Date.now()));
    apply({ type: 'tick', key: due.key });
  }
  return r;
}
