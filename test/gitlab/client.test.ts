// The real gitbeaker-based client against the GitLab API test server: pins both the client's
// neutral shapes and error codes and the test server's GitLab semantics.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabClient } from '../../src/gitlab/client.js';
import type { GitLabApi } from '../../src/gitlab/gitlab-api.js';
import { CanarybotError } from '../../src/core/errors.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

let server: GitLabApiServer;
let api: GitLabApi;

beforeAll(async () => {
  server = await startGitLabApiServer();
  server.seed({
    users: [
      { id: 7, username: 'alice', name: 'Alice', publicEmail: 'alice@example.com' },
      { id: 8, username: 'bob' },
      { id: 9, username: 'mallory' },
    ],
    projects: [{ id: 42, path: 'bookinfo/reviews' }],
    mergeRequests: [
      { projectId: 42, iid: 3, authorId: 8, state: 'merged', mergeCommitSha: SHA, commits: [SHA], updatedAt: '2026-03-01T10:00:00Z' },
      { projectId: 42, iid: 5, authorId: 7, state: 'opened', commits: [SHA] },
    ],
    members: [
      { projectId: 42, userId: 7, accessLevel: 40 },
      { projectId: 42, userId: 8, accessLevel: 30, inherited: true },
    ],
    groups: [
      { id: 100, path: 'platform', members: [{ userId: 9, accessLevel: 20 }] },
      { id: 101, path: 'platform/release-managers', members: [{ userId: 8, accessLevel: 30 }, { userId: 9, accessLevel: 10 }] },
    ],
  });
  api = createGitLabClient({ url: server.url, token: server.token });
});

afterEach(() => {
  server.heal();
  server.assertNoUnexpectedCalls();
});

afterAll(async () => {
  await server.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof CanarybotError ? error.code : `not a CanarybotError: ${String(error)}`;
  }
}

describe('GitLab client over the test server', () => {
  it('reads the current user, projects by id and by path, and 404 → null', async () => {
    expect(await api.currentUser()).toEqual({ id: 1, username: 'canarybot', name: 'canarybot', state: 'active' });
    expect(await api.getProject(42)).toMatchObject({ id: 42, path: 'bookinfo/reviews' });
    expect(await api.getProject('bookinfo/reviews')).toMatchObject({ id: 42 });
    expect(await api.getProject('nope/nope')).toBeNull();

    expect(server.calls.some((c) => c.path === '/projects/bookinfo/reviews' && c.route === 'GET /projects/:id')).toBe(true);
  });

  it('translates merge requests into neutral shapes', async () => {
    const mrs = await api.mergeRequestsForCommit(42, SHA);

    expect(mrs.map((m) => m.iid)).toEqual([5, 3]);
    expect(mrs[1]).toMatchObject({
      projectId: 42,
      iid: 3,
      state: 'merged',
      mergeCommitSha: SHA,
      squashCommitSha: null,
      author: { id: 8, username: 'bob' },
      updatedAt: Date.parse('2026-03-01T10:00:00Z'),
    });
    expect(mrs[0]?.state).toBe('open');
    expect(await api.getMergeRequest(42, 99)).toBeNull();
  });

  it('creates, lists (across pages) and edits notes; replies in a discussion; awards emoji once', async () => {
    for (let i = 0; i < 23; i += 1) server.addNote(42, 5, `comment ${i}`, 7);
    const created = await api.createNote(42, 5, 'hello');

    const edited = await api.editNote(42, 5, created.id, 'hello again');
    const notes = await api.listNotes(42, 5);
    const discussionId = server.notes(42, 5)[0]?.discussionId ?? '';
    const reply = await api.createDiscussionNote(42, 5, discussionId, 'a reply');
    await api.awardEmoji(42, 5, created.id, 'eyes');

    expect(edited.body).toBe('hello again');
    expect(notes).toHaveLength(24);
    expect(notes.at(-1)).toMatchObject({ id: created.id, body: 'hello again', author: { username: 'canarybot' } });
    expect(server.notes(42, 5).find((n) => n.id === reply.id)?.discussionId).toBe(discussionId);
    expect(server.notes(42, 5).find((n) => n.id === created.id)?.awards).toEqual([{ name: 'eyes', userId: 1 }]);
    expect(await codeOf(api.awardEmoji(42, 5, created.id, 'eyes'))).toBe('GITLAB_REFUSED');
    expect(await codeOf(api.createDiscussionNote(42, 5, 'f'.repeat(40), 'x'))).toBe('GITLAB_REFUSED');
    expect(await codeOf(api.editNote(42, 5, notes[0]?.id ?? 0, 'not mine'))).toBe('GITLAB_REFUSED');
  });

  it('moves a commit status through its states and refuses invalid transitions with 400', async () => {
    const status = (state: 'pending' | 'running' | 'success' | 'failed' | 'canceled') =>
      api.setCommitStatus(42, SHA, { state, name: 'canarybot/reviews', targetUrl: 'https://bot/api/releases/r1' });

    await status('pending');
    await status('running');
    const sameTwice = await codeOf(status('running'));
    await status('success');
    const afterSuccess = await codeOf(status('running'));

    expect(sameTwice).toBe('GITLAB_REFUSED');
    expect(afterSuccess).toBe('GITLAB_REFUSED');
    expect(server.calls.filter((c) => c.status === 400).map((c) => c.route)).toContain('POST /projects/:id/statuses/:sha');
    expect(await api.commitStatuses(42, SHA)).toEqual([
      expect.objectContaining({ name: 'canarybot/reviews', state: 'success', targetUrl: 'https://bot/api/releases/r1' }),
    ]);
  });

  it('pins the status state machine of the test server', async () => {
    const table: [string, string[], string][] = [
      ['pending twice', ['pending', 'pending'], 'Cannot transition status via :enqueue from :pending'],
      ['running twice', ['running', 'running'], 'Cannot transition status via :run from :running'],
      ['success → running', ['running', 'success', 'running'], 'Cannot transition status via :run from :success'],
      ['failed → success', ['failed', 'success'], 'Cannot transition status via :success from :failed'],
      ['canceled → canceled', ['canceled', 'canceled'], 'Cannot transition status via :cancel from :canceled'],
    ];
    for (const [name, states, message] of table) {
      const res: number[] = [];
      let last = '';
      for (const state of states) {
        const r = await fetch(`${server.url}/api/v4/projects/42/statuses/${SHA}`, {
          method: 'POST',
          headers: { 'PRIVATE-TOKEN': server.token, 'content-type': 'application/json' },
          body: JSON.stringify({ state, name: `t/${name}` }),
        });
        res.push(r.status);
        last = JSON.stringify(await r.json());
      }

      expect(res.slice(0, -1).every((s) => s === 201), name).toBe(true);
      expect(res.at(-1), name).toBe(400);
      expect(last, name).toContain(message);
    }
  });

  it('looks up members including inherited ones; non-members are null', async () => {
    expect(await api.memberAccessLevel(42, 7)).toBe(40);
    expect(await api.memberAccessLevel(42, 8)).toBe(30);
    expect(await api.memberAccessLevel(42, 9)).toBeNull();
    expect(server.callsTo('GET /projects/:id/members/all/:user_id').map((c) => c.status)).toEqual([200, 200, 404]);
  });

  it('looks up group members by path or id, inherited from ancestor groups at the highest level; others are null', async () => {
    expect(await api.groupMemberAccessLevel('platform/release-managers', 8)).toBe(30);
    expect(await api.groupMemberAccessLevel(101, 9)).toBe(20);
    expect(await api.groupMemberAccessLevel('platform', 8)).toBeNull();
    expect(await api.groupMemberAccessLevel('platform/release-managers', 7)).toBeNull();
    expect(await api.groupMemberAccessLevel('no/such-group', 8)).toBeNull();
    const calls = server.callsTo('GET /groups/:id/members/all/:user_id');
    expect(calls.map((c) => [c.path, c.status])).toEqual([
      ['/groups/platform/release-managers/members/all/8', 200],
      ['/groups/101/members/all/9', 200],
      ['/groups/platform/members/all/8', 404],
      ['/groups/platform/release-managers/members/all/7', 404],
      ['/groups/no/such-group/members/all/8', 404],
    ]);
  });

  it('answers group members only to the right token, and maps its outage like every call', async () => {
    const raw = await fetch(`${server.url}/api/v4/groups/platform%2Frelease-managers/members/all/7`, { headers: { 'PRIVATE-TOKEN': server.token } });
    const wrongToken = await fetch(`${server.url}/api/v4/groups/platform%2Frelease-managers/members/all/8`, { headers: { 'PRIVATE-TOKEN': 'nope' } });
    server.fail({ status: 503, match: /\/groups\// });
    const outage = await codeOf(api.groupMemberAccessLevel('platform/release-managers', 8));

    expect([raw.status, await raw.json()]).toEqual([404, { message: '404 Not found' }]);
    expect(wrongToken.status).toBe(401);
    expect(outage).toBe('GITLAB_UNAVAILABLE');
  });

  it('finds users by username and by exact public email', async () => {
    expect(await api.userByUsername('alice')).toMatchObject({ id: 7, username: 'alice' });
    expect(await api.userByUsername('nobody')).toBeNull();
    expect((await api.usersByEmail('alice@example.com')).map((u) => u.username)).toEqual(['alice']);
    expect(await api.usersByEmail('nobody@example.com')).toEqual([]);
  });

  it('creates and finishes a deployment; a finished one cannot change', async () => {
    const created = await api.createDeployment(42, { environment: 'default/bookinfo/reviews', sha: SHA, ref: 'main', status: 'running' });
    const finished = await api.updateDeployment(42, created.id, 'success');

    expect(created).toMatchObject({ status: 'running', environment: 'default/bookinfo/reviews', sha: SHA, ref: 'main' });
    expect(finished.status).toBe('success');
    expect(await codeOf(api.updateDeployment(42, created.id, 'failed'))).toBe('GITLAB_REFUSED');
    expect(server.deployments(42)).toHaveLength(1);
  });

  it('maps 5xx, 429 and network failures to GITLAB_UNAVAILABLE and 4xx to GITLAB_REFUSED', async () => {
    server.fail({ status: 500 });
    const on500 = await codeOf(api.getProject(42));
    server.fail({ status: 429 });
    const on429 = await codeOf(api.getProject(42));
    server.heal();
    const badToken = createGitLabClient({ url: server.url, token: 'wrong' });
    const on401 = await codeOf(badToken.getProject(42));
    const offline = createGitLabClient({ url: 'http://127.0.0.1:1', token: 't' });
    const onNetwork = await codeOf(offline.getProject(42));

    expect([on500, on429, on401, onNetwork]).toEqual(['GITLAB_UNAVAILABLE', 'GITLAB_UNAVAILABLE', 'GITLAB_REFUSED', 'GITLAB_UNAVAILABLE']);
  });

  it('never puts the token into an error', async () => {
    server.fail({ status: 500 });
    let error: unknown;
    try {
      await api.createNote(42, 5, 'x');
    } catch (e) {
      error = e;
    }

    const text = JSON.stringify(error, Object.getOwnPropertyNames(error as object)) + String((error as Error).cause ?? '');
    expect(error).toBeInstanceOf(CanarybotError);
    expect(text).not.toContain(server.token);
  });

  it('injects faults for a share of calls and for a number of calls', async () => {
    server.fail({ share: 0.5 });
    const codes: string[] = [];
    for (let i = 0; i < 4; i += 1) codes.push(await codeOf(api.getProject(42)));
    server.fail({ times: 2, match: /^GET \/user$/ });
    const user = [await codeOf(api.currentUser()), await codeOf(api.currentUser()), await codeOf(api.currentUser())];
    const projectDuring = await codeOf(api.getProject(42));

    expect(codes).toEqual(['resolved', 'GITLAB_UNAVAILABLE', 'resolved', 'GITLAB_UNAVAILABLE']);
    expect(user).toEqual(['GITLAB_UNAVAILABLE', 'GITLAB_UNAVAILABLE', 'resolved']);
    expect(projectDuring).toBe('resolved');
  });

  it('records an unknown route as unexpected and assertNoUnexpectedCalls fails', async () => {
    const r = await fetch(`${server.url}/api/v4/projects/42/pipelines`, { headers: { 'PRIVATE-TOKEN': server.token } });

    expect(r.status).toBe(404);
    expect(() => server.assertNoUnexpectedCalls()).toThrow(/GET \/projects\/42\/pipelines/);
    server.clearCalls();
  });

  it('refuses a missing token with 401 and records the call', async () => {
    const r = await fetch(`${server.url}/api/v4/user`);

    expect(r.status).toBe(401);
    expect(server.calls.at(-1)).toMatchObject({ method: 'GET', path: '/user', status: 401 });
  });
});
