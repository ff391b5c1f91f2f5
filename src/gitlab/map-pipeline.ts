// Pipeline Hook → release trigger: which definitions a successful pipeline concerns and which image
// it built (DESIGN §4 `trigger.tag`). Pure; the intake worker adds the MR and calls the engine.

import type { Definition } from '../core/definition.js';
import type { Actor, MergeRequestRef, ReleaseTrigger } from '../core/release.js';
import type { PipelineIntake } from './intake-job.js';
import { watchesProject } from './watches-project.js';

/** An OCI tag: 1–128 of [A-Za-z0-9_.-], not starting with `.` or `-`. */
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export type ImageResult = { ok: true; image: string } | { ok: false; reason: string };

/** Definitions whose trigger watches this pipeline's project and branch. */
export function definitionsForPipeline(definitions: readonly Definition[], pipeline: PipelineIntake): Definition[] {
  return definitions.filter((d) => watchesProject(d, pipeline.project) && d.trigger.branch === pipeline.ref);
}

export function imageForPipeline(definition: Definition, pipeline: PipelineIntake): ImageResult {
  const source = definition.trigger.tag;
  let tag: string;
  switch (source.kind) {
    case 'short-sha':
      tag = pipeline.sha.slice(0, 8);
      break;
    case 'sha':
      tag = pipeline.sha;
      break;
    case 'ref':
      tag = pipeline.ref;
      break;
    case 'variable': {
      const value = Object.hasOwn(pipeline.variables, source.name) ? pipeline.variables[source.name] : undefined;
      if (value === undefined || value === '') {
        return { ok: false, reason: `${definition.name}: pipeline ${pipeline.pipeline.id} has no variable ${source.name} for the image tag` };
      }
      tag = value;
      break;
    }
  }
  if (!IMAGE_TAG.test(tag)) {
    return { ok: false, reason: `${definition.name}: "${tag.slice(0, 140)}" (trigger.tag ${source.kind}) is not a valid image tag` };
  }
  return { ok: true, image: `${definition.trigger.image}:${tag}` };
}

export type PipelineMapping = { ok: true; trigger: ReleaseTrigger } | { ok: false; reason: string };

export function mapPipeline(definition: Definition, pipeline: PipelineIntake, mr: MergeRequestRef | null): PipelineMapping {
  const image = imageForPipeline(definition, pipeline);
  if (!image.ok) return image;
  const actor: Actor | null = pipeline.user ? { username: pipeline.user.username, userId: pipeline.user.id, channel: 'gitlab' } : null;
  return {
    ok: true,
    trigger: {
      definition,
      image: image.image,
      sha: pipeline.sha,
      ref: pipeline.ref,
      pipeline: { id: pipeline.pipeline.id, ...(pipeline.pipeline.url ? { url: pipeline.pipeline.url } : {}) },
      mr,
      actor,
    },
  };
}
