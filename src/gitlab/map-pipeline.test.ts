import { describe, expect, it } from 'vitest';
import type { Definition, TagSource } from '../core/definition.js';
import type { PipelineIntake } from './intake-job.js';
import { definitionsForPipeline, imageForPipeline, mapPipeline } from './map-pipeline.js';

const SHA = 'bcbb5ec396a2c0f828686f14fac9b80b780504f2';

function definition(name: string, project: string | number, branch: string, tag: TagSource = { kind: 'short-sha' }): Definition {
  return {
    name,
    trigger: { project, branch, image: `registry.example.com/${name}`, tag },
  } as Definition;
}

const pipeline: PipelineIntake = {
  kind: 'pipeline',
  project: { id: 1, path: 'Bookinfo/Reviews' },
  pipeline: { id: 31, url: 'https://gitlab.example.com/bookinfo/reviews/-/pipelines/31' },
  sha: SHA,
  ref: 'main',
  variables: { IMAGE_TAG: 'v1.2.3', BAD: 'has space', EMPTY: '' },
  mr: null,
  user: { id: 7, username: 'dev' },
};

describe('imageForPipeline', () => {
  it.each([
    [{ kind: 'short-sha' }, { ok: true, image: 'registry.example.com/reviews:bcbb5ec3' }],
    [{ kind: 'sha' }, { ok: true, image: `registry.example.com/reviews:${SHA}` }],
    [{ kind: 'ref' }, { ok: true, image: 'registry.example.com/reviews:main' }],
    [{ kind: 'variable', name: 'IMAGE_TAG' }, { ok: true, image: 'registry.example.com/reviews:v1.2.3' }],
    [{ kind: 'variable', name: 'MISSING' }, { ok: false, reason: 'reviews: pipeline 31 has no variable MISSING for the image tag' }],
    [{ kind: 'variable', name: 'EMPTY' }, { ok: false, reason: 'reviews: pipeline 31 has no variable EMPTY for the image tag' }],
    [{ kind: 'variable', name: 'BAD' }, { ok: false, reason: 'reviews: "has space" (trigger.tag variable) is not a valid image tag' }],
    [{ kind: 'variable', name: 'constructor' }, { ok: false, reason: 'reviews: pipeline 31 has no variable constructor for the image tag' }],
  ] as const)('%o → %o', (tag, expected) => {
    expect(imageForPipeline(definition('reviews', 1, 'main', tag), pipeline)).toEqual(expected);
  });

  it('refuses a ref that is not a valid tag', () => {
    const result = imageForPipeline(definition('reviews', 1, 'feature/x', { kind: 'ref' }), { ...pipeline, ref: 'feature/x' });

    expect(result).toEqual({ ok: false, reason: 'reviews: "feature/x" (trigger.tag ref) is not a valid image tag' });
  });
});

describe('definitionsForPipeline', () => {
  it('picks definitions by project path (any case) or id, and branch', () => {
    const definitions = [
      definition('by-path', 'bookinfo/reviews', 'main'),
      definition('by-id', 1, 'main'),
      definition('by-id-string', '1', 'main'),
      definition('other-branch', 'bookinfo/reviews', 'develop'),
      definition('other-project', 'bookinfo/ratings', 'main'),
      definition('other-id', 2, 'main'),
    ];

    expect(definitionsForPipeline(definitions, pipeline).map((d) => d.name)).toEqual(['by-path', 'by-id', 'by-id-string']);
  });
});

describe('mapPipeline', () => {
  it('builds the trigger with sha, ref, pipeline, MR and actor', () => {
    const def = definition('reviews', 1, 'main');
    const mr = { projectId: 1, iid: 4, url: 'https://gitlab.example.com/mr/4', authorUsername: 'alice', title: 'x' };

    expect(mapPipeline(def, pipeline, mr)).toEqual({
      ok: true,
      trigger: {
        definition: def,
        image: 'registry.example.com/reviews:bcbb5ec3',
        sha: SHA,
        ref: 'main',
        pipeline: { id: 31, url: 'https://gitlab.example.com/bookinfo/reviews/-/pipelines/31' },
        mr,
        actor: { username: 'dev', userId: 7, channel: 'gitlab' },
      },
    });
  });

  it('has no actor when the hook names no user', () => {
    const mapped = mapPipeline(definition('reviews', 1, 'main'), { ...pipeline, user: null }, null);

    expect(mapped.ok && mapped.trigger.actor).toBeNull();
  });
});
