// Intake of a successful pipeline: find the MR it reports to, map it to a trigger per watching
// definition, hand each to the engine.

import type { Logger } from 'pino';
import type { Definition } from '../core/definition.js';
import type { MergeRequestRef } from '../core/release.js';
import type { ReleaseEngine } from '../engine/api.js';
import type { TrainRunner } from '../engine/train-runner.js';
import type { FreezeCalendar } from './freeze-calendar.js';
import type { GitLabApi, GitLabMergeRequest } from './gitlab-api.js';
import type { PipelineIntake } from './intake-job.js';
import { definitionsForPipeline, mapPipeline } from './map-pipeline.js';
import { pickMergeRequest } from './pick-merge-request.js';

export interface PipelineDeps {
  engine: Pick<ReleaseEngine, 'trigger'>;
  gitlab: Pick<GitLabApi, 'getMergeRequest' | 'mergeRequestsForCommit'>;
  definitions: () => readonly Definition[];
  /** The app project's deploy freeze periods go on the release (windows.ts holds it during one). */
  freezes?: FreezeCalendar;
  /** Release trains: a member's pipeline joins its train's assembly instead of a release of its own. */
  trains?: Pick<TrainRunner, 'assemble'>;
  logger?: Logger;
}

export interface PipelineOutcome {
  /** Definition names a trigger was enqueued for. */
  triggered: string[];
  /** Why a watching definition got no trigger (missing tag variable, same image already rolling out, …). */
  ignored: string[];
  /** Train members: what became of the pipeline in its train's assembly. */
  trains: string[];
  mr: MergeRequestRef | null;
}

function toRef(mr: GitLabMergeRequest): MergeRequestRef {
  return { projectId: mr.projectId, iid: mr.iid, url: mr.url, authorUsername: mr.author.username, title: mr.title };
}

/**
 * DESIGN §9 "Which MR". GitLab being down must not stop a release: on the job's last attempt a
 * failed look-up gives no MR instead of an error.
 */
async function findMergeRequest(pipeline: PipelineIntake, deps: PipelineDeps, lastAttempt: boolean): Promise<MergeRequestRef | null> {
  try {
    if (pipeline.mr) {
      const found = await deps.gitlab.getMergeRequest(pipeline.mr.projectId, pipeline.mr.iid);
      return found ? toRef(found) : { ...pipeline.mr };
    }
    return pickOrNull(await deps.gitlab.mergeRequestsForCommit(pipeline.project.id, pipeline.sha), pipeline.sha);
  } catch (error) {
    if (!lastAttempt) throw error;
    deps.logger?.warn({ err: error, pipeline: pipeline.pipeline.id }, 'merge request look-up failed; releasing without MR');
    return pipeline.mr ? { ...pipeline.mr } : null;
  }
}

function pickOrNull(candidates: GitLabMergeRequest[], sha: string): MergeRequestRef | null {
  const mr = pickMergeRequest(sha, candidates);
  return mr ? toRef(mr) : null;
}

export async function handlePipeline(pipeline: PipelineIntake, deps: PipelineDeps, lastAttempt = true): Promise<PipelineOutcome> {
  const definitions = definitionsForPipeline(deps.definitions(), pipeline);
  const outcome: PipelineOutcome = { triggered: [], ignored: [], trains: [], mr: null };
  if (definitions.length === 0) {
    outcome.ignored.push(`no definition watches ${pipeline.project.path} ${pipeline.ref} any more`);
    return outcome;
  }
  outcome.mr = await findMergeRequest(pipeline, deps, lastAttempt);
  for (const definition of definitions) {
    const mapped = mapPipeline(definition, pipeline, outcome.mr);
    if (!mapped.ok) {
      outcome.ignored.push(mapped.reason);
      continue;
    }
    const joined = await deps.trains?.assemble(definition.name, { image: mapped.trigger.image, sha: mapped.trigger.sha, mr: mapped.trigger.mr, pipelineId: pipeline.pipeline.id });
    if (joined) {
      outcome.trains.push(`${definition.name}: ${joined.message}`);
      continue;
    }
    const idempotencyKey = `pipeline-${pipeline.project.id}-${pipeline.pipeline.id}-${definition.name}`;
    const freezes = deps.freezes ? await deps.freezes.periods(definition.trigger.project) : [];
    const trigger = freezes.length > 0 ? { ...mapped.trigger, freezes } : mapped.trigger;
    const result = await deps.engine.trigger(trigger, { idempotencyKey });
    if (result.enqueued) outcome.triggered.push(definition.name);
    else outcome.ignored.push(`${definition.name}: ${result.ignored ?? 'not enqueued'}`);
  }
  deps.logger?.info({ pipeline: pipeline.pipeline.id, ...outcome }, 'pipeline intake done');
  return outcome;
}
