// Shared arrangements for the GitLab intake tests: GitLab's documented payloads and a definition
// watching the project they come from.

import { readFileSync } from 'node:fs';
import type { Definition } from '../../src/core/definition.js';
import { reviewsAnalysis, reviewsDefinition } from '../support/release-fixture.js';

/** A hook payload as the tests mutate it: deliberately loose, since tests break its shape on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Payload = Record<string, any>;

const FIXTURES = new URL('../fixtures/gitlab/', import.meta.url);

export function fixture(name: 'pipeline-success' | 'note-on-mr' | 'mr-merged' | 'push' | 'job' | 'deployment'): Payload {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Payload;
}

/** The documented payloads come from `gitlab-org/gitlab-test` on branch `master`. */
export function testDefinition(overrides: Partial<Definition> = {}): Definition {
  return reviewsDefinition({
    trigger: { project: 'gitlab-org/gitlab-test', branch: 'master', image: 'registry.example.com/bookinfo/reviews', tag: { kind: 'short-sha' } },
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] },
    analysis: reviewsAnalysis({ metrics: [{ name: 'request-success-rate', min: 99 }] }),
    ...overrides,
  });
}

/** A note hook for the documented MR, with the given text as the note. */
export function noteHook(text: string, change: (hook: Payload) => void = () => undefined): Payload {
  const hook = fixture('note-on-mr');
  hook.object_attributes.note = text;
  // Written now (the fixture's 2015 would predate any approval request).
  hook.object_attributes.created_at = new Date().toISOString();
  change(hook);
  return hook;
}
