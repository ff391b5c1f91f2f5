// The intake with the real engine: a pipeline webhook starts a release that reports to its MR; an
// approval comment by the MR author is refused, one by a Maintainer moves the release on to
// promotion, and the engine answers in the comment's thread through the real GitLab replier.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { fixture, testDefinition, type Payload } from './helpers.js';
import { startIntakeStack, type IntakeStack } from './intake-stack.js';

const SECRET = 'engine-intake-secret';
const PROJECT = 5;
const MR_IID = 1;
const ROOT = { id: 1, username: 'root' };
const ALICE = { id: 8, username: 'alice' };
const definition = testDefinition({ target: { ...testDefinition().target, settleMs: 0 } });

let gitlab: GitLabApiServer;
let redis: Redis;
let intake: IntakeStack;
let writeback: GitLabWriteback;
let engine: Engine;

beforeAll(async () => {
  const { url, prefix } = testRedis();
  gitlab = await startGitLabApiServer({ botUser: { id: 99, username: 'canarybot' } });
  gitlab.seed({
    users: [ROOT, ALICE],
    projects: [{ id: PROJECT, path: 'gitlab-org/gitlab-test', defaultBranch: 'master' }],
    mergeRequests: [{ projectId: PROJECT, iid: MR_IID, authorId: ALICE.id, title: 'Faster reviews' }],
    members: [
      { projectId: PROJECT, userId: ROOT.id, accessLevel: 40 },
      { projectId: PROJECT, userId: ALICE.id, accessLevel: 40 },
    ],
  });
  const api = createGitLabClient({ url: gitlab.url, token: gitlab.token });
  redis = new Redis(url);
  writeback = createGitLabWriteback({ api, redis, prefix: `${prefix}-wb`, outbox: { pollMs: 20 } });
  writeback.start();
  engine = await startTestEngine({ redisUrl: url, prefix: `${prefix}-engine`, ports: { ...fakePorts(), replier: writeback.replier }, definitions: [definition] });
  intake = await startIntakeStack({ redisUrl: url, prefix, redis, secret: SECRET, engine, gitlab: api, replier: writeback.replier, definitions: [definition] });
});

afterAll(async () => {
  await intake.close();
  await engine.close();
  await writeback.close();
  redis.disconnect();
  await gitlab.close();
});

const deliver = (hook: Payload): Promise<string> => intake.deliver(hook);

function comment(text: string, author: { id: number; username: string }) {
  const note = gitlab.addNote(PROJECT, MR_IID, text, author.id);
  const hook = fixture('note-on-mr');
  hook.user = { ...hook.user, ...author };
  hook.object_attributes = { ...hook.object_attributes, id: note.id, note: text, author_id: author.id, discussion_id: note.discussionId, created_at: new Date().toISOString() };
  hook.merge_request = { ...hook.merge_request, iid: MR_IID, author_id: ALICE.id };
  return { note, hook };
}

const threadReply = (discussionId: string, noteId: number) =>
  waitFor(async () => gitlab.notes(PROJECT, MR_IID).find((n) => n.discussionId === discussionId && n.id !== noteId)?.body, 15_000, 'a reply in the thread');

describe('GitLab intake with the real engine', () => {
  it('starts a release from a pipeline and promotes it after a Maintainer approves', async () => {
    const pipeline = fixture('pipeline-success');
    pipeline.project.id = PROJECT;
    pipeline.merge_request.target_project_id = PROJECT;

    await deliver(pipeline);
    const waiting = await waitFor(async () => {
      const release = await engine.findLiveByMergeRequest(PROJECT, MR_IID);
      return release?.state === 'awaiting-approval' ? release : null;
    }, 15_000, 'the release to wait for approval');

    const byAuthor = comment('/canary approve', ALICE);
    await deliver(byAuthor.hook);
    const refusal = await threadReply(byAuthor.note.discussionId, byAuthor.note.id);

    const byMaintainer = comment('/canary approve', ROOT);
    await deliver(byMaintainer.hook);
    const ended = await waitForEnd(engine, waiting.id);
    const outcome = await threadReply(byMaintainer.note.discussionId, byMaintainer.note.id);

    expect(waiting).toMatchObject({ image: 'registry.example.com/bookinfo/reviews:bcbb5ec3', mr: { projectId: PROJECT, iid: MR_IID, authorUsername: 'alice' } });
    expect(refusal).toContain('approvals.allowAuthor');
    expect(ended.state).toBe('succeeded');
    expect(ended.approvals).toEqual([expect.objectContaining({ stepIndex: waiting.stepIndex, actor: expect.objectContaining({ username: 'root' }) })]);
    expect(outcome).toMatch(/^✅/);
    gitlab.assertNoUnexpectedCalls();
  });
});
