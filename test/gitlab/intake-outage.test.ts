// Issue 13 item 13: an MR-comment command written during a GitLab outage longer than a minute is
// not dropped. The intake (route → inbox → forwarder → queue → worker, as `serve` wires it) with
// the real GitLab client against the GitLab API test server, down for 65 s: the approval's
// permission check fails until GitLab is back, the intake retries with the default policy (capped
// full jitter), and the command reaches the engine after the outage. On main before this change the
// intake gave up after 6 tries (2 + 4 + 8 + 16 + 32 = 62 s) and the comment was lost.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { INTAKE_RETRY, intakeBackoff } from '../../src/gitlab/intake-queue.js';
import { cappedBackoff, JOB_RETRY } from '../../src/engine/jobs.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { fixture, testDefinition } from './helpers.js';
import { startIntakeStack, type IntakeStack } from './intake-stack.js';
import { RecordingEngine, testRelease } from './recording-engine.js';

const OUTAGE_MS = 65_000;
const PROJECT = 5;
const MR_IID = 1;
const ALICE = { id: 8, username: 'alice' };
const ROOT = { id: 1, username: 'root' };

describe('intake retry policy', () => {
  it('keeps trying far longer than a minute: 10,000 simulated jobs, the shortest total span over 5 minutes', () => {
    let shortest = Infinity;
    let longestDelay = 0;
    for (let job = 0; job < 10_000; job++) {
      let total = 0;
      for (let attempt = 1; attempt < INTAKE_RETRY.attempts; attempt++) {
        const delay = intakeBackoff(attempt);
        longestDelay = Math.max(longestDelay, delay);
        total += delay;
      }
      shortest = Math.min(shortest, total);
    }
    expect(longestDelay).toBeLessThan(INTAKE_RETRY.capMs);
    process.stdout.write(`intake retry: ${INTAKE_RETRY.attempts} tries, shortest simulated span ${Math.round(shortest / 1000)} s\n`);
    expect(shortest).toBeGreaterThan(5 * 60_000);
  });

  it('engine jobs and intake jobs draw jittered delays (not the same for every job)', () => {
    const intake = new Set(Array.from({ length: 20 }, () => intakeBackoff(5)));
    const engine = new Set(Array.from({ length: 20 }, () => cappedBackoff(8)));
    expect(intake.size).toBeGreaterThan(10);
    expect(engine.size).toBeGreaterThan(10);
    expect(Math.max(...engine)).toBeLessThan(JOB_RETRY.capMs);
    expect(cappedBackoff(3, () => 0.5)).toBe(200);
  });
});

describe('an MR comment during a GitLab outage longer than a minute', () => {
  let gitlab: GitLabApiServer;
  let redis: Redis;
  let intake: IntakeStack;
  const engine = new RecordingEngine();

  beforeAll(async () => {
    const { url, prefix } = testRedis();
    gitlab = await startGitLabApiServer({ botUser: { id: 99, username: 'canarybot' } });
    gitlab.seed({
      users: [ROOT, ALICE],
      projects: [{ id: PROJECT, path: 'gitlab-org/gitlab-test', defaultBranch: 'master' }],
      mergeRequests: [{ projectId: PROJECT, iid: MR_IID, authorId: ALICE.id, title: 'Faster reviews' }],
      members: [{ projectId: PROJECT, userId: ROOT.id, accessLevel: 40 }],
    });
    redis = new Redis(url);
    const api = createGitLabClient({ url: gitlab.url, token: gitlab.token });
    engine.releases.push(testRelease({ id: 'rel-outage' }));
    intake = await startIntakeStack({
      redisUrl: url,
      prefix: `${prefix}-outage`,
      redis,
      secret: 'outage-secret',
      engine,
      gitlab: api,
      replier: { reply: async () => undefined },
      definitions: [testDefinition()],
    });
  });

  afterAll(async () => {
    await intake.close();
    redis.disconnect();
    await gitlab.close();
  });

  it(`reaches the engine after a ${OUTAGE_MS / 1000} s outage`, { timeout: 200_000 }, async () => {
    const note = gitlab.addNote(PROJECT, MR_IID, '/canary approve', ROOT.id);
    const hook = fixture('note-on-mr');
    hook.user = { ...hook.user, ...ROOT };
    hook.object_attributes = { ...hook.object_attributes, id: note.id, note: '/canary approve', author_id: ROOT.id, discussion_id: note.discussionId };
    hook.merge_request = { ...hook.merge_request, iid: MR_IID, author_id: ALICE.id };
    const started = Date.now();
    gitlab.fail({ status: 503, forMs: OUTAGE_MS });

    const jobId = await intake.deliver(hook);
    const deadline = started + OUTAGE_MS + 2 * INTAKE_RETRY.capMs;
    while (engine.commands.length === 0 && Date.now() < deadline) {
      const state = await (await intake.queue.getJob(jobId))?.getState();
      if (state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const job = await intake.queue.getJob(jobId);
    process.stdout.write(`MR comment during a ${OUTAGE_MS} ms GitLab outage: handed to the engine after ${Date.now() - started} ms, ${job?.attemptsMade ?? '?'} failed tries\n`);
    expect(engine.commands).toEqual([expect.objectContaining({ verb: 'approve', releaseId: 'rel-outage', actor: expect.objectContaining({ username: 'root' }) as unknown })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(gitlab.calls.filter((call) => call.faulted).length).toBeGreaterThan(1);
  });
});
