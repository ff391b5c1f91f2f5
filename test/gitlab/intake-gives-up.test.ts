// Issue 13: an MR comment whose intake runs out of tries (GitLab away for longer than the intake's
// retry budget) is not dropped in silence. The intake as `serve` wires it (route → inbox → forwarder
// → queue → worker, real Redis, the real GitLab client against the GitLab API test server, which
// answers 503 throughout), with the budget cut to 3 quick tries: on the last one the author is
// answered in the comment's thread with a sentence (the GitLab replier keeps it in the write-back
// outbox until GitLab takes it), the give-up is in the intake audit and logged as an error with the
// same sentence, and nothing reaches the engine. On main before this change the job just failed.

import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandOutcome, ReplyTarget } from '../../src/core/ports.js';
import { createIntakeAudit } from '../../src/engine/intake-audit.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { fixture, testDefinition } from './helpers.js';
import { startIntakeStack, type IntakeStack } from './intake-stack.js';
import { RecordingEngine, testRelease } from './recording-engine.js';

const PROJECT = 5;
const MR_IID = 1;
const ALICE = { id: 8, username: 'alice' };
const ROOT = { id: 1, username: 'root' };
const TRIES = 3;

describe('an MR comment whose intake runs out of tries', () => {
  let gitlab: GitLabApiServer;
  let redis: Redis;
  let intake: IntakeStack;
  const engine = new RecordingEngine();
  const replies: { target: ReplyTarget; outcome: CommandOutcome }[] = [];
  const logLines: string[] = [];
  let audit: ReturnType<typeof createIntakeAudit>;

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
    audit = createIntakeAudit({ redis, prefix: `${prefix}-gives-up` });
    engine.releases.push(testRelease({ id: 'rel-gives-up' }));
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logLines.push(chunk.toString()); done(); } }));
    intake = await startIntakeStack({
      redisUrl: url,
      prefix: `${prefix}-gives-up`,
      redis,
      secret: 'gives-up-secret',
      attempts: TRIES,
      backoff: () => 50,
      engine,
      gitlab: createGitLabClient({ url: gitlab.url, token: gitlab.token }),
      replier: { reply: async (target, outcome) => void replies.push({ target, outcome }) },
      audit,
      logger,
      definitions: [testDefinition()],
    });
  });

  afterAll(async () => {
    await intake.close();
    redis.disconnect();
    await gitlab.close();
  });

  it('answers the author with a sentence, audits and logs it, and runs nothing', { timeout: 60_000 }, async () => {
    const note = gitlab.addNote(PROJECT, MR_IID, '/canary approve', ROOT.id);
    const hook = fixture('note-on-mr');
    hook.user = { ...hook.user, ...ROOT };
    hook.object_attributes = { ...hook.object_attributes, id: note.id, note: '/canary approve', author_id: ROOT.id, discussion_id: note.discussionId };
    hook.merge_request = { ...hook.merge_request, iid: MR_IID, author_id: ALICE.id };
    gitlab.fail({ status: 503, forMs: 60_000 });

    const jobId = await intake.deliver(hook);
    const deadline = Date.now() + 30_000;
    while (replies.length === 0 && Date.now() < deadline) {
      const state = await (await intake.queue.getJob(jobId))?.getState();
      if (state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const job = await intake.queue.getJob(jobId);
    const state = await job?.getState();
    process.stdout.write(`MR comment, GitLab down past ${TRIES} tries: job ${state}, ${replies.length} reply, answer: ${replies[0]?.outcome.message ?? '(none)'}\n`);

    expect(replies).toEqual([
      {
        target: { channel: 'gitlab', projectId: PROJECT, mrIid: MR_IID, noteId: note.id, discussionId: note.discussionId },
        outcome: { ok: false, message: expect.stringMatching(/^`\/canary approve` was not handled: canarybot could not reach GitLab or its engine in 3 tries over \d+ s, so nothing was changed\. Write the command again if it still applies\.$/) as unknown },
      },
    ]);
    expect(engine.commands).toEqual([]);
    const audited = await audit.since(0);
    expect(audited).toEqual([expect.objectContaining({ action: 'refused', verb: 'approve', sentence: replies[0]!.outcome.message, actor: expect.objectContaining({ username: 'root' }) as unknown })]);
    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; noteId?: number }).filter((line) => line.level >= 50);
    expect(logged).toEqual([expect.objectContaining({ msg: replies[0]!.outcome.message, noteId: note.id })]);
    expect(state).toBe('completed');
  });
});
