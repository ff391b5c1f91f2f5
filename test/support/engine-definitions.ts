import type { Definition, Step } from '../../src/core/definition.js';
import type { ReleaseTrigger } from '../../src/core/release.js';

/** A canary definition for engine tests: short timings, every field filled. */
export function canaryDefinition(overrides: { name?: string; steps?: Step[]; settleMs?: number; alerts?: Definition['alerts'] } = {}): Definition {
  const name = overrides.name ?? 'reviews';
  return {
    name,
    trigger: { project: 'bookinfo/reviews', branch: 'main', image: `registry.example.com/bookinfo/${name}`, tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'],
      namespace: 'bookinfo',
      virtualService: name,
      host: name,
      stable: { subset: 'stable', deployment: `${name}-primary`, container: name },
      canary: { subset: 'canary', deployment: `${name}-canary`, container: name },
      settleMs: overrides.settleMs ?? 0,
      readinessDeadlineMs: 60_000,
    },
    strategy: {
      kind: 'canary',
      steps: overrides.steps ?? [
        { kind: 'setWeight', weight: 10 },
        { kind: 'pause', durationMs: 50 },
        { kind: 'analysis', count: 2 },
        { kind: 'setWeight', weight: 50 },
        { kind: 'setWeight', weight: 100 },
      ],
    },
    analysis: {
      intervalMs: 20,
      windowMs: 60_000,
      count: 2,
      failureLimit: 0,
      inconclusiveLimit: 3,
      consecutiveErrorLimit: 4,
      minRequests: 20,
      metrics: [{ name: 'request-success-rate', min: 99 }],
    },
    alerts: overrides.alerts ?? [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
  };
}

export function triggerFor(definition: Definition, tag: string, mr: { projectId: number; iid: number } | null = null): ReleaseTrigger {
  return {
    definition,
    image: `${definition.trigger.image}:${tag}`,
    sha: `${tag}0000000000000000`,
    ref: 'main',
    pipeline: { id: 1 },
    mr,
    actor: { username: 'ci', channel: 'system' },
  };
}
