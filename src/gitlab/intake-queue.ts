import { Queue, type ConnectionOptions } from 'bullmq';
import { backoffDelayMs, type Backoff } from '../core/backoff.js';
import type { IntakeJob } from './intake-job.js';

/** BullMQ queue between the webhook route and the intake worker. */
export const INTAKE_QUEUE_NAME = 'gitlab-intake';

export interface IntakeQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (default `bull`). */
  prefix?: string;
  /** Tries per job (default INTAKE_RETRY.attempts); tests shorten it. */
  attempts?: number;
}

/**
 * How long the intake keeps trying a delivery while GitLab (or the engine) is down: 40 tries, the
 * first retry within 1 s, then capped full jitter up to 60 s apart. The 34 capped delays alone add
 * up to about 17 minutes on average; the chance that all 40 end within one minute is below 1e-38.
 * An MR comment written during an outage of many minutes is therefore handled after it.
 */
export const INTAKE_RETRY: Backoff & { attempts: number } = { attempts: 40, baseMs: 1_000, capMs: 60_000 };

/** BullMQ backoff type name of the intake's jittered retry (resolved by the worker's backoffStrategy). */
export const INTAKE_BACKOFF_TYPE = 'intake-jitter';

/** Delay before retry `attemptsMade` of an intake job: the one capped full-jitter backoff. */
export function intakeBackoff(attemptsMade: number, random: () => number = Math.random): number {
  return backoffDelayMs(attemptsMade, INTAKE_RETRY, random);
}

export type IntakeQueue = Queue<IntakeJob, void, IntakeJob['kind']>;

export function createIntakeQueue(options: IntakeQueueOptions): IntakeQueue {
  return new Queue<IntakeJob, void, IntakeJob['kind']>(INTAKE_QUEUE_NAME, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    defaultJobOptions: {
      // A GitLab or engine outage is retried; the delivery itself was already answered with 202.
      attempts: options.attempts ?? INTAKE_RETRY.attempts,
      backoff: { type: INTAKE_BACKOFF_TYPE },
      // Completed jobs are kept a day: the intake forwarder adds at least once, and a second add of a
      // kept job id is a no-op, so a replayed inbox item never becomes a second job.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
