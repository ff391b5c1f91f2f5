// Hold mode end to end in the engine (real Redis, real GitLab write-back against the GitLab API test
// server): a failed gate holds the canary's traffic, the MR note says HELD above everything, the
// approvers are @-mentioned once with the figure, chat hears it; then /canary resume → promoted,
// /canary abort → rolled back, and a forgotten hold → rolled back at holdTimeout.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { createGitLabWriteback, type GitLabWriteback } from '../../src/gitlab/gitlab-writeback.js';
import { notificationText } from '../../src/chatops/notification-text.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';

let gitlab: GitLabApiServer;
let redis: Redis;
let writeback: GitLabWriteback;
let engine: Engine;
let ports: FakePorts;

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({ users: [{ id: 8, username: 'bob' }, { id: 9, username: 'rm-anna' }], projects: [{ id: 42, path: 'bookinfo/reviews' }], mergeRequests: [1, 2, 3].map((iid) => ({ projectId: 42, iid, authorId: 8 })) });
  const { url, prefix } = testRedis();
  redis = new Redis(url);
  writeback = createGitLabWriteback({ api: createGitLabClient({ url: gitlab.url, token: gitlab.token }), redis, prefix, links: {}, outbox: { pollMs: 50, backoffBaseMs: 50, backoffMaxMs: 200 } });
  writeback.start();
  ports = fakePorts();
  ports.gates.fallback = 'pass';
  engine = await startTestEngine({ redisUrl: url, prefix: `${prefix}-engine`, ports: { ...ports, reporter: writeback.reporter } });
});

afterAll(async () => {
  await engine.close();
  await writeback.close();
  redis.disconnect();
  await gitlab.close();
});

function holdingDefinition(holdTimeoutMs: number): Definition {
  const definition = canaryDefinition();
  return { ...definition, onFailure: 'hold', holdTimeoutMs, approvals: { ...definition.approvals, users: ['rm-anna'] } };
}

async function heldRelease(tag: string, iid: number, holdTimeoutMs = 600_000): Promise<Release> {
  ports.gates.verdicts.push('fail');
  await engine.trigger(triggerFor(holdingDefinition(holdTimeoutMs), tag, { projectId: 42, iid }));
  return waitFor(async () => {
    const release = (await engine.list({ service: 'reviews' })).find((candidate) => candidate.image.endsWith(tag));
    return release?.phase === 'held' ? release : null;
  }, 15_000, 'a held release');
}

async function send(release: Release, verb: 'resume' | 'abort'): Promise<void> {
  await engine.command({ verb, actor: { username: 'rm-anna', channel: 'gitlab' }, releaseId: release.id, stepIndex: release.stepIndex });
}

describe('hold instead of rollback', () => {
  it('holds the traffic, says HELD in the note, @-mentions the approvers with the figure; resume → promoted', async () => {
    const held = await heldRelease('h0000001', 1);
    const writesWhenHeld = ports.router.writes.length;

    expect(held.weights.canary).toBe(10);
    expect(held.wait).toMatchObject({ kind: 'hold' });
    await vi.waitFor(() => {
      const [note, mention] = gitlab.notes(42, 1);
      expect(note?.body).toContain('## 🛑 HELD: a gate failed and the traffic was NOT rolled back');
      expect(note?.body).toContain('**Traffic now:** stable 90 % · canary 10 %');
      expect(mention?.body).toContain('🛑 **HELD:** `reviews` at step 3 with the canary at 10 %, not rolled back: request-success-rate 91.2');
      expect(mention?.body).toContain('@rm-anna');
    }, { timeout: 10_000 });
    expect(notificationText(held, 'held', { flavor: 'mattermost' })).toMatch(/^:octagonal_sign: \*\*HELD\*\*: \*\*reviews\*\* .* at step 3 with the canary at 10 %, not rolled back: request-success-rate 91\.2.*`\/canary resume reviews`.*@rm-anna/);

    await send(held, 'resume');
    const ended = await waitForEnd(engine, held.id);

    expect(ended.state).toBe('succeeded');
    expect(ports.router.writes.slice(writesWhenHeld - 1).map((write) => write.traffic.weights.canary)).toEqual([10, 50, 100, 0]);
    await vi.waitFor(() => expect(gitlab.notes(42, 1)[0]?.body).not.toContain('HELD'), { timeout: 10_000 });
  });

  it('abort rolls a held release back', async () => {
    const held = await heldRelease('h0000002', 2);

    await send(held, 'abort');
    const ended = await waitForEnd(engine, held.id);

    expect(ended.state).toBe('aborted');
    expect(ended.weights).toEqual({ stable: 100, canary: 0 });
  });

  it('a forgotten hold is rolled back at holdTimeout', async () => {
    const held = await heldRelease('h0000003', 3, 1500);

    const ended = await waitForEnd(engine, held.id, 15_000);

    expect(ended.state).toBe('rolled-back');
    expect(ended.reason).toMatch(/^held 1500ms with no \/canary abort or \/canary resume, rolled back: request-success-rate 91\.2/);
    expect((ended.endedAt ?? 0) - (held.wait?.since ?? 0)).toBeGreaterThanOrEqual(1500);
  });
});
