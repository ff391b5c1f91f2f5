// An acknowledged GitLab delivery must never be dropped because the process working on it died.
// Found by the HA soak (bench/soak: 200 releases, 3 serve processes, 30 SIGKILLs): 25 intake jobs
// ended "job stalled more than allowable limit" — BullMQ's default maxStalledCount of 1 fails a
// job the second time its worker dies under it, so 20 pipelines answered 202 never became releases.
// Here a pipeline job's worker is stopped dead (no lock renewal, job left active) twice; the third
// worker must still run it.

import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { ReleaseTrigger } from '../../src/core/release.js';
import type { GitLabApi } from '../../src/gitlab/gitlab-api.js';
import type { IntakeJob } from '../../src/gitlab/intake-job.js';
import { createIntakeQueue, type IntakeQueue } from '../../src/gitlab/intake-queue.js';
import { createIntakeWorker } from '../../src/gitlab/intake-worker.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { testDefinition } from './helpers.js';

const PREFIX = '{intake-stalls}';
const TIMING = { lockMs: 1_000, stalledIntervalMs: 500 };
const JOB: IntakeJob = {
  kind: 'pipeline',
  project: { id: 1, path: 'gitlab-org/gitlab-test' },
  pipeline: { id: 4242 },
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  ref: 'master',
  variables: {},
  mr: { projectId: 1, iid: 7 },
  user: null,
};

let redis: RedisServer;
let queue: IntakeQueue;
beforeAll(async () => {
  redis = await startRedisServer();
  queue = createIntakeQueue({ connection: { url: redis.url }, prefix: PREFIX });
});
afterAll(async () => {
  await queue?.close();
  await redis?.stop();
});

let lookups = 0;

/** A worker whose GitLab MR lookup never answers (`hang`) or answers at once; lookups and triggers are counted. */
function worker(hang: boolean, triggers: ReleaseTrigger[]): Worker<IntakeJob> {
  const never = new Promise<never>(() => undefined);
  const lookup = <T>(value: T): Promise<T> => {
    lookups += 1;
    return hang ? never : Promise.resolve(value);
  };
  const gitlab = {
    getMergeRequest: () => lookup(null),
    mergeRequestsForCommit: () => lookup([]),
  } as unknown as GitLabApi;
  const engine = {
    trigger: async (trigger: ReleaseTrigger) => {
      triggers.push(trigger);
      return { enqueued: true, releaseId: 'r1' };
    },
  } as never;
  const definitions: Definition[] = [testDefinition()];
  return createIntakeWorker({ connection: { url: redis.url }, prefix: PREFIX, engine, gitlab, replier: {} as never, definitions, timing: TIMING });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('gitlab intake worker', () => {
  it('runs a job whose worker died under it twice', async () => {
    const triggers: ReleaseTrigger[] = [];
    await queue.add('pipeline', JOB, { jobId: 'gl-stalls-twice' });
    for (let death = 1; death <= 2; death++) {
      const dying = worker(true, triggers);
      // (the first takes it from the queue; the second once its stalled check has found the first dead)
      await until(`worker ${death} to work on the job`, async () => lookups >= death);
      // Dead, as after SIGKILL: no lock renewal, the job left active until a stalled check finds it.
      await dying.close(true);
    }
    const survivor = worker(false, triggers);
    await until('the job to end', async () => ['completed', 'failed'].includes(await queue.getJobState('gl-stalls-twice')), 30_000);
    const job = await queue.getJob('gl-stalls-twice');
    await survivor.close();

    expect({ state: await queue.getJobState('gl-stalls-twice'), failedReason: job?.failedReason }).toEqual({ state: 'completed', failedReason: undefined });
    expect(triggers.map((t) => t.sha)).toEqual([JOB.sha]);
  });
});
