// The intake end to end: webhook route → real Redis queue → intake worker → the GitLab API test
// server (real @gitbeaker/rest client) and a recording engine. Replies go through the real
// write-back replier.

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { fixture, testDefinition, type Payload } from './helpers.js';
import { startIntakeStack, type IntakeStack } from './intake-stack.js';
import { RecordingEngine, testRelease } from './recording-engine.js';

const SECRET = 'intake-secret';
const PROJECT = 5;
const MR_IID = 1;
const SHA = 'bcbb5ec396a2c0f828686f14fac9b80b780504f2';
const MERGED_SHA = '0123456789abcdef0123456789abcdef01234567';
const USERS = {
  root: { id: 1, username: 'root' },
  alice: { id: 8, username: 'alice' },
  bob: { id: 9, username: 'bob' },
  eve: { id: 10, username: 'eve' },
  grace: { id: 11, username: 'grace' },
};
const RELEASE_MANAGERS = 'platform/release-managers';

let gitlab: GitLabApiServer;
let redis: Redis;
let intake: IntakeStack;
let writeback: GitLabWriteback;
const engine = new RecordingEngine();
let definitions: Definition[] = [testDefinition()];

beforeAll(async () => {
  const { url, prefix } = testRedis();
  gitlab = await startGitLabApiServer({ botUser: { id: 99, username: 'canarybot' } });
  gitlab.seed({
    users: Object.values(USERS),
    projects: [{ id: PROJECT, path: 'gitlab-org/gitlab-test', defaultBranch: 'master' }],
    mergeRequests: [
      { projectId: PROJECT, iid: MR_IID, authorId: USERS.alice.id, title: 'Faster reviews', commits: [SHA] },
      { projectId: PROJECT, iid: 2, authorId: USERS.bob.id, state: 'merged', mergeCommitSha: MERGED_SHA, commits: [MERGED_SHA], updatedAt: '2026-01-01T00:00:00.000Z' },
      { projectId: PROJECT, iid: 3, authorId: USERS.bob.id, state: 'opened', commits: [MERGED_SHA], updatedAt: '2026-02-01T00:00:00.000Z' },
    ],
    members: [
      { projectId: PROJECT, userId: USERS.root.id, accessLevel: 40, inherited: true },
      { projectId: PROJECT, userId: USERS.alice.id, accessLevel: 40 },
      { projectId: PROJECT, userId: USERS.bob.id, accessLevel: 30 },
      { projectId: PROJECT, userId: USERS.grace.id, accessLevel: 30 },
    ],
    groups: [{ id: 70, path: RELEASE_MANAGERS, members: [{ userId: USERS.grace.id, accessLevel: 30 }] }],
  });
  const api = createGitLabClient({ url: gitlab.url, token: gitlab.token });
  redis = new Redis(url);
  writeback = createGitLabWriteback({ api, redis, prefix, outbox: { pollMs: 20 } });
  writeback.start();
  intake = await startIntakeStack({
    redisUrl: url,
    prefix,
    redis,
    secret: SECRET,
    engine,
    gitlab: api,
    replier: writeback.replier,
    definitions: () => definitions,
    publicUrl: 'https://canarybot.example.com',
  });
});

afterAll(async () => {
  await intake.close();
  await writeback.close();
  redis.disconnect();
  await gitlab.close();
});

beforeEach(() => {
  engine.releases.length = 0;
  engine.triggers.length = 0;
  engine.commands.length = 0;
  definitions = [testDefinition()];
});

afterEach(() => {
  gitlab.assertNoUnexpectedCalls();
  gitlab.clearCalls();
});

const deliver = (hook: Payload): Promise<string> => intake.deliver(hook);

async function finished(jobId: string): Promise<unknown> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const job = await intake.queue.getJob(jobId);
    const state = await job?.getState();
    if (state === 'completed') return job?.returnvalue;
    if (state === 'failed') throw new Error(`intake job failed: ${job?.failedReason}`);
    if (Date.now() > deadline) throw new Error(`intake job ${jobId} still ${state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function replyTo(discussionId: string, noteId: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = gitlab.notes(PROJECT, MR_IID).find((n) => n.discussionId === discussionId && n.id !== noteId);
    if (reply) return reply.body;
    if (Date.now() > deadline) throw new Error('no reply in the thread');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `/canary …` comment written in the test server, and GitLab's Note Hook for it. */
function comment(text: string, author: { id: number; username: string }) {
  const note = gitlab.addNote(PROJECT, MR_IID, text, author.id);
  const hook = fixture('note-on-mr');
  hook.user = { ...hook.user, ...author };
  hook.object_attributes = { ...hook.object_attributes, id: note.id, note: text, author_id: author.id, discussion_id: note.discussionId };
  hook.merge_request = { ...hook.merge_request, iid: MR_IID, author_id: USERS.alice.id };
  return { note, hook };
}

function awards(noteId: number): string[] {
  return (gitlab.notes(PROJECT, MR_IID).find((n) => n.id === noteId)?.awards ?? []).map((a) => a.name);
}

describe('comment commands', () => {
  it('hands an approval by a Maintainer (inherited) to the engine, bound to the current step', async () => {
    engine.releases.push(testRelease({ id: 'rel-approve', stepIndex: 1, state: 'awaiting-approval' }));
    const { note, hook } = comment('/canary approve', USERS.root);

    await finished(await deliver(hook));

    expect(engine.commands).toEqual([
      {
        verb: 'approve',
        actor: { username: 'root', userId: 1, channel: 'gitlab' },
        releaseId: 'rel-approve',
        stepIndex: 1,
        writtenAt: expect.any(Number),
        replyTo: { channel: 'gitlab', projectId: PROJECT, mrIid: MR_IID, noteId: note.id, discussionId: note.discussionId },
      },
    ]);
    expect(awards(note.id)).toEqual(['eyes']);
  });

  it('passes the abort reason on', async () => {
    engine.releases.push(testRelease({ id: 'rel-abort' }));
    const { hook } = comment('/canary abort latency doubled', USERS.bob);

    await finished(await deliver(hook));

    expect(engine.commands.map((c) => [c.verb, c.actor.username, c.reason])).toEqual([['abort', 'bob', 'latency doubled']]);
  });

  it.each([
    ['the MR author (allowAuthor false)', USERS.alice, 'approvals.allowAuthor'],
    ['a non-member', USERS.eve, 'is not a member of the project'],
    ['a Developer (maintainer required)', USERS.bob, 'approvals.minAccessLevel: maintainer required, @bob has developer'],
  ])('refuses an approval by %s with a reply in the thread naming the rule', async (_name, author, rule) => {
    engine.releases.push(testRelease({ id: 'rel-refuse' }));
    const { note, hook } = comment('/canary approve', author);

    await finished(await deliver(hook));
    const reply = await replyTo(note.discussionId, note.id);

    expect(reply).toContain(rule);
    expect(engine.commands.map((c) => [c.verb, c.refusal, c.replyTo])).toEqual([['approve', `Refused by ${reply.split('Refused by ')[1]?.trim()}`, undefined]]);
    expect(awards(note.id)).toEqual(['eyes']);
  });

  it('lets the MR author approve when the policy allows it', async () => {
    const definition = testDefinition({ approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: true } });
    engine.releases.push(testRelease({ id: 'rel-author', definition }));
    const { hook } = comment('/canary approve', USERS.alice);

    await finished(await deliver(hook));

    expect(engine.commands.map((c) => [c.verb, c.actor.username])).toEqual([['approve', 'alice']]);
  });

  it('answers status directly with state, step, weights and link', async () => {
    engine.releases.push(testRelease({ id: 'rel-status', state: 'progressing', stepIndex: 0 }));
    const { note, hook } = comment('/canary status', USERS.eve);

    await finished(await deliver(hook));
    const reply = await replyTo(note.discussionId, note.id);

    expect(reply).toContain('State: **progressing**, step 1 of 3 (setWeight)');
    expect(reply).toContain('stable 90 % / canary 10 %');
    expect(reply).toContain('https://canarybot.example.com/releases/rel-status');
    expect(engine.commands).toEqual([]);
  });

  it.each([
    ['help', '/canary help', 'Commands:'],
    ['an unknown verb', '/canary deploy-everything', 'Unknown command "deploy-everything"'],
    ['a bare /canary', '/canary', 'A command is missing'],
  ])('answers %s with the help text', async (_name, text, expected) => {
    const { note, hook } = comment(text, USERS.bob);

    await finished(await deliver(hook));
    const reply = await replyTo(note.discussionId, note.id);

    expect(reply).toContain(expected);
    expect(reply).toContain('approve');
  });

  it('says so when the MR has no live release', async () => {
    engine.releases.push(testRelease({ id: 'rel-done', state: 'succeeded' }));
    const { note, hook } = comment('/canary approve', USERS.root);

    await finished(await deliver(hook));
    const reply = await replyTo(note.discussionId, note.id);

    expect(reply).toContain('no live canarybot release');
    expect(engine.commands).toEqual([]);
  });

  it('retries the latest release even when it has ended', async () => {
    engine.releases.push(testRelease({ id: 'rel-failed', state: 'rolled-back', stepIndex: 2 }));
    const { hook } = comment('/canary retry', USERS.root);

    await finished(await deliver(hook));

    expect(engine.commands.map((c) => [c.verb, c.releaseId, c.stepIndex])).toEqual([['retry', 'rel-failed', 2]]);
  });
});

describe('comment commands with approvals.groups', () => {
  const GROUP_ROUTE = 'GET /groups/:id/members/all/:user_id';
  const groupPolicy = () => testDefinition({ approvals: { minAccessLevel: 'maintainer', users: [], groups: [RELEASE_MANAGERS], allowAuthor: false } });

  it('lets a Developer who is in a listed group approve, after one group look-up', async () => {
    engine.releases.push(testRelease({ id: 'rel-group', stepIndex: 1, state: 'awaiting-approval', definition: groupPolicy() }));
    const { hook } = comment('/canary approve', USERS.grace);

    await finished(await deliver(hook));

    expect(engine.commands.map((c) => [c.verb, c.actor.username, c.releaseId])).toEqual([['approve', 'grace', 'rel-group']]);
    expect(gitlab.callsTo(GROUP_ROUTE).map((c) => [c.path, c.status])).toEqual([[`/groups/${RELEASE_MANAGERS}/members/all/${USERS.grace.id}`, 200]]);
  });

  it('refuses a Developer who is not in the group, naming the rule and the group', async () => {
    engine.releases.push(testRelease({ id: 'rel-group-refused', definition: groupPolicy() }));
    const { note, hook } = comment('/canary approve', USERS.bob);

    await finished(await deliver(hook));
    const reply = await replyTo(note.discussionId, note.id);

    expect(reply).toContain(`approvals.minAccessLevel: maintainer required, @bob has developer and is not in approvals.groups: ${RELEASE_MANAGERS}.`);
    expect(engine.commands.map((c) => [c.verb, c.refusal?.includes('is not in approvals.groups'), c.replyTo])).toEqual([['approve', true, undefined]]);
    expect(gitlab.callsTo(GROUP_ROUTE).map((c) => c.status)).toEqual([404]);
  });

  it('does not look the groups up for a Maintainer, nor for a non-member', async () => {
    engine.releases.push(testRelease({ id: 'rel-group-maintainer', definition: groupPolicy() }));
    const maintainer = comment('/canary approve', USERS.root);
    await finished(await deliver(maintainer.hook));
    const outsider = comment('/canary approve', USERS.eve);
    await finished(await deliver(outsider.hook));
    const refusal = await replyTo(outsider.note.discussionId, outsider.note.id);

    expect(engine.commands.map((c) => [c.verb, c.actor.username, c.refusal !== undefined])).toEqual([['approve', 'root', false], ['approve', 'eve', true]]);
    expect(refusal).toContain('is not a member of the project');
    expect(gitlab.callsTo('GET /projects/:id/members/all/:user_id')).toHaveLength(2);
    expect(gitlab.callsTo(GROUP_ROUTE)).toEqual([]);
  });

  it('never approves while the group look-up fails: the job is retried and acts once GitLab answers', async () => {
    engine.releases.push(testRelease({ id: 'rel-group-outage', definition: groupPolicy() }));
    const { note, hook } = comment('/canary approve', USERS.grace);
    gitlab.fail({ status: 500, match: /^GET \/groups\// });

    const jobId = await deliver(hook);
    const deadline = Date.now() + 10_000;
    while (((await intake.queue.getJob(jobId))?.attemptsMade ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('the intake job never attempted');
      await new Promise((r) => setTimeout(r, 20));
    }
    const duringOutage = { commands: [...engine.commands], notes: gitlab.notes(PROJECT, MR_IID).filter((n) => n.discussionId === note.discussionId).length };
    gitlab.heal();
    await finished(jobId);

    expect(duringOutage).toEqual({ commands: [], notes: 1 });
    expect(engine.commands.map((c) => [c.verb, c.actor.username])).toEqual([['approve', 'grace']]);
    // Faulted calls are recorded without a route.
    expect(gitlab.calls.filter((c) => c.path.startsWith('/groups/')).map((c) => [c.status, c.faulted])).toEqual([[500, true], [200, false]]);
  });
});

describe('pipelines', () => {
  const pipelineHook = (change: (hook: Payload) => void = () => undefined): Payload => {
    const hook = fixture('pipeline-success');
    hook.project.id = PROJECT;
    hook.object_attributes.id = Math.floor(Math.random() * 1e9);
    change(hook);
    return hook;
  };

  it("uses the payload's merge request, completed from GitLab", async () => {
    const hook = pipelineHook((h) => { h.merge_request.iid = MR_IID; h.merge_request.target_project_id = PROJECT; });

    await finished(await deliver(hook));

    expect(engine.triggers).toHaveLength(1);
    const { trigger, idempotencyKey } = engine.triggers[0]!;
    expect(trigger).toMatchObject({
      image: 'registry.example.com/bookinfo/reviews:bcbb5ec3',
      sha: SHA,
      ref: 'master',
      pipeline: { id: hook.object_attributes.id, url: 'http://example.com/gitlab-org/gitlab-test/-/pipelines/31' },
      mr: { projectId: PROJECT, iid: MR_IID, authorUsername: 'alice', title: 'Faster reviews' },
      actor: { username: 'root', userId: 1, channel: 'gitlab' },
    });
    expect(trigger.definition.name).toBe('reviews');
    expect(idempotencyKey).toBe(`pipeline-${PROJECT}-${hook.object_attributes.id}-reviews`);
  });

  it('finds the MR through merge-requests-for-commit: the merged one whose merge commit is the sha', async () => {
    const hook = pipelineHook((h) => { h.merge_request = null; h.object_attributes.sha = MERGED_SHA; });

    await finished(await deliver(hook));

    expect(engine.triggers[0]?.trigger.mr).toMatchObject({ projectId: PROJECT, iid: 2, authorUsername: 'bob' });
    expect(gitlab.callsTo('GET /projects/:id/repository/commits/:sha/merge_requests')).toHaveLength(1);
  });

  it('releases without MR when GitLab knows none for the commit', async () => {
    const hook = pipelineHook((h) => { h.merge_request = null; h.object_attributes.sha = 'fedcba9876543210fedcba9876543210fedcba98'; });

    await finished(await deliver(hook));

    expect(engine.triggers.map((t) => [t.trigger.image, t.trigger.mr])).toEqual([['registry.example.com/bookinfo/reviews:fedcba98', null]]);
  });

  it('ignores a definition whose tag variable the pipeline lacks, with the reason', async () => {
    definitions = [testDefinition({ trigger: { ...testDefinition().trigger, tag: { kind: 'variable', name: 'IMAGE_TAG' } } })];

    const outcome = await finished(await deliver(pipelineHook()));

    expect(engine.triggers).toEqual([]);
    expect(outcome).toMatchObject({ triggered: [], ignored: [expect.stringContaining('has no variable IMAGE_TAG')] });
  });

  it("reports the engine's reason when it enqueues nothing", async () => {
    engine.triggerResult = { enqueued: false, ignored: 'same image already rolling out' };

    const outcome = await finished(await deliver(pipelineHook()));
    engine.triggerResult = { enqueued: true };

    expect(outcome).toMatchObject({ triggered: [], ignored: ['reviews: same image already rolling out'] });
  });
});
