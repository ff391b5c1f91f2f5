// The GitLab write-back through the real client, the GitLab API test server and real Redis.

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Release } from '../../src/core/release.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback, type GitLabWritebackOptions } from '../../src/gitlab/gitlab-writeback.js';
import { progressNoteMarker, renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';
import { SHA, T0, release } from './release-fixture.js';

const links = { publicUrl: 'https://canarybot.example.com' };
const NOTES_PUT = 'PUT /projects/:id/merge_requests/:iid/notes/:note_id';
const NOTES_POST = 'POST /projects/:id/merge_requests/:iid/notes';
const STATUS_POST = 'POST /projects/:id/statuses/:sha';

let server: GitLabApiServer;
let redis: Redis;
const open: GitLabWriteback[] = [];
let releaseSeq = 0;

beforeAll(async () => {
  server = await startGitLabApiServer();
  server.seed({
    users: [{ id: 8, username: 'bob' }, { id: 7, username: 'alice' }],
    projects: [{ id: 42, path: 'bookinfo/reviews' }],
    mergeRequests: [{ projectId: 42, iid: 7, authorId: 8 }],
  });
  redis = new Redis(testRedis().url);
});

afterEach(async () => {
  server.heal();
  await Promise.all(open.splice(0).map((w) => w.close()));
  server.assertNoUnexpectedCalls();
  server.clearCalls();
});

afterAll(async () => {
  redis.disconnect();
  await server.close();
});

function writeback(overrides: Partial<GitLabWritebackOptions> = {}): GitLabWriteback {
  const wb = createGitLabWriteback({
    api: createGitLabClient({ url: server.url, token: server.token }),
    redis,
    prefix: testRedis().prefix,
    links,
    outbox: { pollMs: 50, backoffBaseMs: 50, backoffMaxMs: 300 },
    ...overrides,
  });
  wb.start();
  open.push(wb);
  return wb;
}

/** A release walking through its lifecycle, one record version per stage, with its own MR-unique id. */
function lifecycle(options: { mr?: boolean } = {}): Release[] {
  releaseSeq += 1;
  const sha = `${SHA.slice(0, 36)}${String(releaseSeq).padStart(4, '0')}`;
  const base = release({ id: `rel-wb-${releaseSeq}`, sha, ...(options.mr === false ? { mr: null } : {}) });
  const stages: Partial<Release>[] = [
    { state: 'pending' },
    { state: 'deploying' },
    { state: 'progressing', stepIndex: 0, weights: { stable: 95, canary: 5 } },
    { state: 'progressing', stepIndex: 1, weights: { stable: 95, canary: 5 } },
    { state: 'progressing', stepIndex: 2, weights: { stable: 75, canary: 25 } },
    { state: 'awaiting-approval', stepIndex: 3, weights: { stable: 75, canary: 25 } },
    { state: 'progressing', stepIndex: 4, weights: { stable: 75, canary: 25 } },
    { state: 'promoting', stepIndex: 5, weights: { stable: 0, canary: 100 } },
    { state: 'succeeded', stepIndex: 5, weights: { stable: 100, canary: 0 }, endedAt: T0 + 600_000 },
  ];
  return stages.map((stage, i) => ({
    ...base,
    ...stage,
    version: i + 1,
    updatedAt: T0 + i * 60_000,
    timeline: Array.from({ length: i + 1 }, (_, k) => ({ at: T0 + k * 60_000, canaryWeight: k * 10, successRate: 99.5 })),
  }));
}

function markerNotes(id: string) {
  return server.notes(42, 7).filter((n) => n.body.startsWith(progressNoteMarker(id)));
}

function postedStates(): string[] {
  return server.callsTo(STATUS_POST).map((c) => String((c.body as { state: string }).state));
}

describe('GitLab write-back', () => {
  it('creates the note once, edits it at every stage, and moves the status pending → running → success once each', async () => {
    const wb = writeback();
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';
    const sha = stages[0]?.sha ?? '';

    for (const stage of stages) {
      await wb.reporter.report(stage, 'progress');
      await vi.waitFor(() => expect(markerNotes(id)[0]?.body).toBe(renderProgressNote(stage, links)), { timeout: 10_000 });
    }
    await vi.waitFor(() => expect(server.statuses(42, sha).find((s) => s.name === 'canarybot/reviews')?.status).toBe('success'), { timeout: 10_000 });

    expect(markerNotes(id)).toHaveLength(1);
    expect(server.callsTo(NOTES_PUT)).toHaveLength(stages.length - 1);
    const posted = server.callsTo(NOTES_POST).map((c) => String((c.body as { body: string }).body));
    const approvalRequests = posted.filter((body) => body.startsWith('🙋 Approval needed'));
    expect(posted).toHaveLength(2);
    expect(approvalRequests).toHaveLength(1);
    expect(approvalRequests[0]).toContain('at step 4');
    expect(approvalRequests[0]).toContain('`/canary approve`');
    expect(approvalRequests[0]).toContain('@carol');
    expect(markerNotes(id)[0]?.history).toHaveLength(stages.length - 1);
    expect(postedStates()).toEqual(['pending', 'running', 'success']);
    expect(server.calls.filter((c) => c.status >= 400)).toEqual([]);
    const status = server.statuses(42, sha).find((s) => s.name === 'canarybot/reviews');
    expect(status?.targetUrl).toBe(`https://canarybot.example.com/releases/${id}`);
    const deployments = server.deployments(42).filter((d) => d.sha === sha);
    expect(deployments.map((d) => [d.environment, d.status])).toEqual([['default/bookinfo/reviews', 'success']]);
  });

  it('tells the MR author about a rollback in one new note, however often the rollback is reported', async () => {
    const wb = writeback();
    const base = lifecycle()[4] as Release;
    const rollingBack: Release = { ...base, state: 'rolling-back', rollbackOutcome: 'rolled-back', reason: 'Alert HighErrorRate fired', version: 20, updatedAt: T0 + 20 * 60_000 };
    const rolledBack: Release = { ...rollingBack, state: 'rolled-back', version: 21, updatedAt: T0 + 21 * 60_000, endedAt: T0 + 21 * 60_000 };

    await wb.reporter.report(rollingBack, 'rolling-back');
    await vi.waitFor(() => expect(server.callsTo(NOTES_POST).some((c) => String((c.body as { body: string }).body).startsWith('⏪'))).toBe(true), { timeout: 10_000 });
    await wb.reporter.report(rolledBack, 'rolled-back');
    await vi.waitFor(() => expect(markerNotes(base.id)[0]?.body).toBe(renderProgressNote(rolledBack, links)), { timeout: 10_000 });

    const mentions = server.callsTo(NOTES_POST).map((c) => String((c.body as { body: string }).body)).filter((body) => body.startsWith('⏪'));
    expect(mentions).toEqual(['⏪ @bob `reviews` is being rolled back: all traffic goes back to stable. Alert HighErrorRate fired. The progress note above has the figures; `/canary retry` starts the release again once fixed.']);
  });

  it('coalesces a burst of reports into few writes of the newest text and ignores an older record', async () => {
    const wb = writeback();
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';
    const sha = stages[0]?.sha ?? '';
    const last = stages.at(-1) as Release;

    for (const stage of stages) await wb.reporter.report(stage, 'progress');
    await wb.reporter.report(stages[2] as Release, 'progress');
    await vi.waitFor(() => expect(markerNotes(id)[0]?.body).toBe(renderProgressNote(last, links)), { timeout: 10_000 });
    await vi.waitFor(() => expect(server.deployments(42).find((d) => d.sha === sha && d.status === 'success')).toBeDefined(), { timeout: 10_000 });

    const noteWrites = server.callsTo(NOTES_POST).length + server.callsTo(NOTES_PUT).length;
    expect(noteWrites).toBeGreaterThanOrEqual(1);
    expect(noteWrites).toBeLessThan(stages.length);
    expect(markerNotes(id)).toHaveLength(1);
    expect(new Set(postedStates()).size).toBe(postedStates().length);
  });

  it('keeps report() fast while GitLab answers 500, then converges when GitLab is back', async () => {
    const wb = writeback();
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';
    const sha = stages[0]?.sha ?? '';
    server.fail({ status: 500 });

    for (const stage of stages) await wb.reporter.report(stage, 'progress');
    await vi.waitFor(() => expect(server.calls.filter((c) => c.faulted).length).toBeGreaterThan(2), { timeout: 10_000 });
    const writtenDuringOutage = markerNotes(id).length;
    server.heal();

    expect(writtenDuringOutage).toBe(0);
    await vi.waitFor(() => expect(markerNotes(id)[0]?.body).toBe(renderProgressNote(stages.at(-1) as Release, links)), { timeout: 10_000 });
    await vi.waitFor(() => expect(server.statuses(42, sha).find((s) => s.name === 'canarybot/reviews')?.status).toBe('success'), { timeout: 10_000 });
    expect(markerNotes(id)).toHaveLength(1);
    expect(postedStates().filter((s, i, all) => all.indexOf(s) !== i)).toEqual([]);
  });

  it('never throws from report() even when Redis is unusable', async () => {
    const broken = new Redis(testRedis().url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const wb = createGitLabWriteback({ api: createGitLabClient({ url: server.url, token: server.token }), redis: broken, prefix: 'x' });

    await expect(wb.reporter.report(lifecycle()[0] as Release, 'started')).resolves.toBeUndefined();
    await wb.close();
    broken.disconnect();
  });

  it('without an MR writes only the commit status and the deployment', async () => {
    const wb = writeback();
    const stages = lifecycle({ mr: false });
    const sha = stages[0]?.sha ?? '';

    await wb.reporter.report(stages[0] as Release, 'started');
    await wb.reporter.report(stages.at(-1) as Release, 'promoted');
    await vi.waitFor(() => expect(server.deployments(42).find((d) => d.sha === sha && d.status === 'success')).toBeDefined(), { timeout: 10_000 });

    expect(server.calls.filter((c) => c.path.includes('/merge_requests/'))).toEqual([]);
    expect(postedStates().at(-1)).toBe('success');
  });

  it('finds its note by the marker when the id is not cached, and edits it', async () => {
    const wb = writeback();
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';
    server.addNote(42, 7, `${progressNoteMarker(id)}\n\nplanted by someone else`, 7);
    const own = server.addNote(42, 7, `${progressNoteMarker(id)}\n\nan older text`, server.botUser.id);

    await wb.reporter.report(stages[1] as Release, 'progress');
    await vi.waitFor(() => expect(own.body).toBe(renderProgressNote(stages[1] as Release, links)), { timeout: 10_000 });

    expect(server.callsTo(NOTES_POST)).toHaveLength(0);
    expect(server.callsTo(NOTES_PUT)).toHaveLength(1);
  });

  it('ends the status as failed for a rollback and canceled for an abort, posting each state once', async () => {
    const wb = writeback();
    const [first, second] = [lifecycle({ mr: false }), lifecycle({ mr: false })];
    const sha = first[0]?.sha ?? '';
    const sha2 = second[0]?.sha ?? '';
    const rolledBack = { ...(first[3] as Release), state: 'rolled-back' as const, version: 20, reason: 'Analysis failed.' };
    const aborted = { ...(second[3] as Release), sha: sha2, state: 'aborted' as const, version: 20 };

    await wb.reporter.report({ ...(first[2] as Release) }, 'progress');
    await vi.waitFor(() => expect(server.statuses(42, sha).at(-1)?.status).toBe('running'), { timeout: 10_000 });
    await wb.reporter.report(rolledBack, 'rolled-back');
    await wb.reporter.report({ ...(second[2] as Release), sha: sha2 }, 'progress');
    await vi.waitFor(() => expect(server.statuses(42, sha2).at(-1)?.status).toBe('running'), { timeout: 10_000 });
    await wb.reporter.report(aborted, 'aborted');
    await wb.reporter.report(aborted, 'aborted');

    await vi.waitFor(() => expect(server.statuses(42, sha).at(-1)?.status).toBe('failed'), { timeout: 10_000 });
    await vi.waitFor(() => expect(server.statuses(42, sha2).at(-1)?.status).toBe('canceled'), { timeout: 10_000 });
    expect(server.calls.filter((c) => c.status === 400)).toEqual([]);
  });

  it('spends at most the write budget per window', async () => {
    const wb = writeback({ writesPerMinute: 2, outbox: { pollMs: 20, windowMs: 400, backoffBaseMs: 50, backoffMaxMs: 300 } });
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';

    await wb.reporter.report(stages[0] as Release, 'started');
    await vi.waitFor(() => expect(markerNotes(id)).toHaveLength(1), { timeout: 5000 });

    const writes = server.calls.filter((c) => c.method !== 'GET');
    const perWindow = new Map<number, number>();
    for (const c of writes) perWindow.set(Math.floor(c.at / 400), (perWindow.get(Math.floor(c.at / 400)) ?? 0) + 1);
    expect(writes).toHaveLength(3);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(2);
  });

  it('lets two replicas share the work without writing twice', async () => {
    const prefix = testRedis().prefix;
    const a = writeback({ prefix });
    const b = writeback({ prefix });
    const stages = lifecycle();
    const id = stages[0]?.id ?? '';
    const sha = stages[0]?.sha ?? '';

    for (const [i, stage] of stages.entries()) await (i % 2 === 0 ? a : b).reporter.report(stage, 'progress');
    await vi.waitFor(() => expect(markerNotes(id)[0]?.body).toBe(renderProgressNote(stages.at(-1) as Release, links)), { timeout: 10_000 });
    await vi.waitFor(() => expect(server.statuses(42, sha).find((s) => s.name === 'canarybot/reviews')?.status).toBe('success'), { timeout: 10_000 });

    expect(markerNotes(id)).toHaveLength(1);
    expect(server.callsTo('POST /projects/:id/deployments')).toHaveLength(1);
    expect(server.calls.filter((c) => c.status === 400)).toEqual([]);
  });
});

describe('GitLab replier', () => {
  it('replies in the discussion, else with a new note, and falls back when the discussion is gone', async () => {
    const wb = writeback();
    const command = server.addNote(42, 7, '/canary approve', 7);

    await wb.replier.reply({ channel: 'gitlab', projectId: 42, mrIid: 7, noteId: command.id, discussionId: command.discussionId }, { ok: true, message: 'Approved step 4.' });
    await wb.replier.reply({ channel: 'gitlab', projectId: 42, mrIid: 7, noteId: command.id }, { ok: false, message: 'Refused: needs maintainer.' });
    await wb.replier.reply({ channel: 'gitlab', projectId: 42, mrIid: 7, noteId: command.id, discussionId: 'f'.repeat(40) }, { ok: false, message: 'Unknown verb.' });
    await vi.waitFor(() => expect(server.notes(42, 7).filter((n) => n.authorId === server.botUser.id && /^(✅|⛔) /.test(n.body))).toHaveLength(3), { timeout: 10_000 });

    const byBody = (text: string) => server.notes(42, 7).find((n) => n.body.includes(text));
    expect(byBody('Approved step 4.')).toMatchObject({ body: '✅ Approved step 4.', discussionId: command.discussionId });
    expect(byBody('Refused: needs maintainer.')?.discussionId).not.toBe(command.discussionId);
    expect(byBody('Unknown verb.')?.body).toBe('⛔ Unknown verb.');
  });

  it('retries a reply while GitLab is down', async () => {
    const wb = writeback();
    server.fail({ status: 502, times: 12 });

    await wb.replier.reply({ channel: 'gitlab', projectId: 42, mrIid: 7, noteId: 1 }, { ok: true, message: 'Paused.' });
    await vi.waitFor(() => expect(server.notes(42, 7).some((n) => n.body === '✅ Paused.')).toBe(true), { timeout: 10_000 });

    expect(server.calls.filter((c) => c.faulted).length).toBeGreaterThan(0);
  });
});
