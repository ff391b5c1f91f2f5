// The worker behind the `gitlab-intake` queue: everything the webhook route must not do on the
// request path (GitLab look-ups, authorization, engine calls) happens here, retried with backoff.

import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Definition } from '../core/definition.js';
import type { CommandReplier } from '../core/ports.js';
import type { ReleaseEngine } from '../engine/api.js';
import type { GitLabApi } from './gitlab-api.js';
import { FreezeCalendar } from './freeze-calendar.js';
import { handleNote, type NoteDeps, type NoteOutcome } from './handle-note.js';
import { handlePipeline, type PipelineDeps, type PipelineOutcome } from './handle-pipeline.js';
import type { IntakeJob } from './intake-job.js';
import { INTAKE_QUEUE_NAME, intakeBackoff } from './intake-queue.js';
import { answerUnhandledNote, type UnhandledNote } from './unhandled-note.js';

export interface IntakeDeps {
  engine: ReleaseEngine;
  gitlab: GitLabApi;
  /** Answers refusals, `status` and `help` in the MR thread (the engine answers the rest). */
  replier: CommandReplier;
  definitions: readonly Definition[] | (() => readonly Definition[]);
  /** PUBLIC_URL, for the link in `/canary status`. */
  publicUrl?: string;
  logger?: Logger;
  /** Release trains started by `/canary train start` on a member's MR. */
  trains?: NoteDeps['trains'];
  /** Records the intake's own refusals for GET /api/audit. */
  audit?: NoteDeps['audit'];
  /** Release trains assembled from their members' pipelines. */
  assembler?: PipelineDeps['trains'];
  /** The bot's freeze-period cache (shared with the engine); default: one of its own. */
  freezes?: FreezeCalendar;
}

export interface IntakeWorkerOptions extends IntakeDeps {
  connection: ConnectionOptions;
  /** BullMQ key prefix; must equal the route's queue prefix. */
  prefix?: string;
  /** Jobs processed at once (default 4). */
  concurrency?: number;
  /** Delay before a retry (default the intake's capped full jitter); tests shorten it. */
  backoff?: (attemptsMade: number) => number;
  /** Job lock and stalled-check interval (BullMQ's defaults, 30 s each); shorter in tests. */
  timing?: { lockMs?: number; stalledIntervalMs?: number };
}

export type IntakeOutcome = PipelineOutcome | NoteOutcome | UnhandledNote;

/** Where a job stands in its retries, for the last try's give-up. */
export interface IntakeTry {
  last: boolean;
  /** Tries so far, this one included. */
  tries: number;
  /** When the job was first queued (epoch ms). */
  queuedAt: number;
}

/**
 * Processes one intake job; on the last try a pipeline goes ahead without its MR when GitLab stays
 * down, and a comment that still fails is answered as not handled (never dropped in silence).
 */
export function intakeProcessor(deps: IntakeDeps): (job: IntakeJob, attempt: boolean | IntakeTry, jobId?: string) => Promise<IntakeOutcome> {
  const definitions = typeof deps.definitions === 'function' ? deps.definitions : () => deps.definitions as readonly Definition[];
  const freezes = deps.freezes ?? new FreezeCalendar(deps.gitlab);
  return async (job, attempt, jobId) => {
    const lastAttempt = typeof attempt === 'boolean' ? attempt : attempt.last;
    // The job id is the one the webhook route answered with, so a delivery can be followed from
    // GitLab's "Recent events" to this line.
    const logger = deps.logger?.child({ intake: job.kind, project: job.project.path, ...(jobId ? { job: jobId } : {}) });
    if (job.kind === 'pipeline') {
      return handlePipeline(
        job,
        { engine: deps.engine, gitlab: deps.gitlab, definitions, freezes, ...(deps.assembler ? { trains: deps.assembler } : {}), ...(logger ? { logger } : {}) },
        lastAttempt,
      );
    }
    const handled = handleNote(job, {
      engine: deps.engine,
      gitlab: deps.gitlab,
      replier: deps.replier,
      ...(deps.trains ? { trains: deps.trains } : {}),
      ...(deps.audit ? { audit: deps.audit } : {}),
      ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
      ...(logger ? { logger } : {}),
    });
    const outcome = lastAttempt && typeof attempt !== 'boolean'
      ? await handled.catch((error: unknown) =>
          answerUnhandledNote(job, error, attempt.tries, Date.now() - attempt.queuedAt, {
            replier: deps.replier,
            ...(deps.audit ? { audit: deps.audit } : {}),
            ...(logger ? { logger } : {}),
          }))
      : await handled;
    logger?.info({ note: job.note.id, mrIid: job.mr.iid, outcome: outcome.kind }, 'note intake done');
    return outcome;
  };
}

/** How often an intake job may lose its worker (SIGKILL, OOM, node drain) and still run. */
const STALLS_SURVIVED = 1_000;

export function createIntakeWorker(options: IntakeWorkerOptions): Worker<IntakeJob, IntakeOutcome> {
  const process = intakeProcessor(options);
  const worker = new Worker<IntakeJob, IntakeOutcome>(
    INTAKE_QUEUE_NAME,
    async (job: Job<IntakeJob, IntakeOutcome>) => {
      const attempts = job.opts.attempts ?? 1;
      const tries = job.attemptsMade + 1;
      return process(job.data, { last: tries >= attempts, tries, queuedAt: job.timestamp }, job.id);
    },
    {
      connection: options.connection,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      concurrency: options.concurrency ?? 4,
      // A delivery answered 202 must survive its worker dying any number of times (BullMQ's default
      // of 1 fails a job the second time, losing the webhook). Jobs are idempotent: triggers dedupe.
      maxStalledCount: STALLS_SURVIVED,
      ...(options.timing?.lockMs ? { lockDuration: options.timing.lockMs } : {}),
      ...(options.timing?.stalledIntervalMs ? { stalledInterval: options.timing.stalledIntervalMs } : {}),
      settings: { backoffStrategy: options.backoff ?? ((attemptsMade: number) => intakeBackoff(attemptsMade)) },
    },
  );
  worker.on('failed', (job, error) => {
    options.logger?.warn({ err: error, job: job?.id, attempts: job?.attemptsMade }, 'gitlab intake job failed');
  });
  return worker;
}
