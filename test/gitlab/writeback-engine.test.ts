// The release engine with the real GitLab write-back as its Reporter: a GitLab outage delays the
// note and the status but never holds the release, and both converge once GitLab is back.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../src/engine/create-engine.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import { progressNoteMarker, renderProgressNote } from '../../src/gitlab/render-progress-note.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';

const links = { publicUrl: 'https://canarybot.example.com' };
let server: GitLabApiServer;
let redis: Redis;
let writeback: GitLabWriteback;
let engine: Engine;

beforeAll(async () => {
  server = await startGitLabApiServer();
  server.seed({
    users: [{ id: 8, username: 'bob' }],
    projects: [{ id: 42, path: 'bookinfo/reviews' }],
    mergeRequests: [{ projectId: 42, iid: 7, authorId: 8 }],
  });
  const { url, prefix } = testRedis();
  redis = new Redis(url);
  writeback = createGitLabWriteback({
    api: createGitLabClient({ url: server.url, token: server.token }),
    redis,
    prefix,
    links,
    outbox: { pollMs: 50, backoffBaseMs: 50, backoffMaxMs: 200 },
  });
  writeback.start();
  engine = await startTestEngine({ redisUrl: url, prefix: `${prefix}-engine`, ports: { ...fakePorts(), reporter: writeback.reporter } });
});

afterAll(async () => {
  await engine.close();
  await writeback.close();
  redis.disconnect();
  await server.close();
});

describe('release engine with the GitLab write-back', () => {
  it('finishes a release while GitLab answers 500, then the note and status converge', async () => {
    server.fail({ status: 500 });

    await engine.trigger(triggerFor(canaryDefinition(), 'e2e00001', { projectId: 42, iid: 7 }));
    const [first] = await waitFor(async () => {
      const list = await engine.list({ service: 'reviews' });
      return list.length > 0 ? list : null;
    });
    const ended = await waitForEnd(engine, first?.id ?? '');
    const notesDuringOutage = server.notes(42, 7).length;
    const faultedDuringOutage = server.calls.filter((c) => c.faulted).length;
    server.heal();

    expect(ended.state).toBe('succeeded');
    expect(notesDuringOutage).toBe(0);
    expect(faultedDuringOutage).toBeGreaterThan(0);
    const final = await engine.get(ended.id);
    await vi.waitFor(() => expect(server.notes(42, 7)[0]?.body).toBe(renderProgressNote(final ?? ended, links)), { timeout: 10_000 });
    await vi.waitFor(() => expect(server.statuses(42, ended.sha)[0]?.status).toBe('success'));
    expect(server.notes(42, 7).filter((n) => n.body.startsWith(progressNoteMarker(ended.id)))).toHaveLength(1);
    expect(server.deployments(42).map((d) => d.status)).toEqual(['success']);
    server.assertNoUnexpectedCalls();
  });
});
