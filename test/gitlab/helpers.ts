// Shared arrangements for the GitLab intake tests: GitLab's documented payloads and a definition
// watching the project they come from.

import { readFileSync } from 'node:fs';
import type { Definition } from '../../src/core/definition.js';

/** A hook payload as the tests mutate it: deliberately loose, since tests break its shape on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Payload = Record<string, any>;

const FIXTURES = new URL('../fixtures/gitlab/', import.meta.url);

export function fixture(name: 'pipeline-success' | 'note-on-mr' | 'mr-merged' | 'push' | 'job' | 'deployment'): Payload {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Payload;
}

/** The documented payloads come from `gitlab-org/gitlab-test` on branch `master`. */
export function testDefinition(overrides: Partial<Definition> = {}): Definition {
  return {
    name: 'reviews',
    trigger: { project: 'gitlab-org/gitlab-test', branch: 'master', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'],
      namespace: 'bookinfo',
      virtualService: 'reviews',
      host: 'reviews',
      stable: { subset: 'stable', deployment: 'reviews-primary', container: 'reviews' },
      canary: { subset: 'canary', deployment: 'reviews-canary', container: 'reviews' },
      settleMs: 5000,
      readinessDeadlineMs: 600_000,
    },
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] },
    analysis: {
      intervalMs: 30_000,
      windowMs: 60_000,
      count: 3,
      failureLimit: 0,
      inconclusiveLimit: 3,
      consecutiveErrorLimit: 4,
      minRequests: 20,
      metrics: [{ name: 'request-success-rate', min: 99 }],
    },
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
    ...overrides,
  };
}

/** A note hook for the documented MR, with the given text as the note. */
export function noteHook(text: string, change: (hook: Payload) => void = () => undefined): Payload {
  const hook = fixture('note-on-mr');
  hook.object_attributes.note = text;
  change(hook);
  return hook;
}
