import { Queue, type ConnectionOptions } from 'bullmq';
import type { IntakeJob } from './intake-job.js';

/** BullMQ queue between the webhook route and the intake worker. */
export const INTAKE_QUEUE_NAME = 'gitlab-intake';

export interface IntakeQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix (default `bull`). */
  prefix?: string;
}

export type IntakeQueue = Queue<IntakeJob, void, IntakeJob['kind']>;

export function createIntakeQueue(options: IntakeQueueOptions): IntakeQueue {
  return new Queue<IntakeJob, void, IntakeJob['kind']>(INTAKE_QUEUE_NAME, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    defaultJobOptions: {
      // A GitLab or engine outage is retried; the delivery itself was already answered with 202.
      attempts: 6,
      backoff: { type: 'exponential', delay: 2000 },
      // Completed jobs are kept a day: the intake forwarder adds at least once, and a second add of a
      // kept job id is a no-op, so a replayed inbox item never becomes a second job.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
