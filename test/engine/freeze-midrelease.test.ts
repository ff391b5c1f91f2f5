// A deploy freeze added in GitLab after a release started (POST /projects/:id/freeze_periods on the
// GitLab API test server, read by the real client through the bot's FreezeCalendar with a short cache)
// holds the release at its weight at the next increase, the analysis going on meanwhile; deleting
// the freeze lets it go on to promotion. Engine on a real Redis.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { Release } from '../../src/core/release.js';
import type { Engine } from '../../src/engine/create-engine.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { FreezeCalendar } from '../../src/gitlab/freeze-calendar.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts, type FakePorts } from '../support/fakes.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';
import { testRedis } from '../support/redis.js';

let gitlab: GitLabApiServer;
let engine: Engine;
let ports: FakePorts;

const definition: Definition = canaryDefinition({ steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'approval' }, { kind: 'setWeight', weight: 50 }, { kind: 'setWeight', weight: 100 }] });

async function gitlabApi(method: 'POST' | 'DELETE', path: string, body?: object): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${gitlab.url}/api/v4${path}`, {
    method,
    headers: { 'private-token': gitlab.token, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: response.status === 204 ? null : await response.json() };
}

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({ projects: [{ id: 42, path: 'bookinfo/reviews' }] });
  const { url, prefix } = testRedis();
  ports = fakePorts();
  ports.gates.fallback = 'pass';
  const freezes = new FreezeCalendar(createGitLabClient({ url: gitlab.url, token: gitlab.token }), 200);
  engine = await startTestEngine({ redisUrl: url, prefix, ports, freezes });
});

afterAll(async () => {
  await engine?.close();
  await gitlab?.close();
});

describe('a freeze added in GitLab mid-release', () => {
  it('holds the weight at the next increase while the analysis goes on; deleted, the release goes on', async () => {
    await engine.trigger(triggerFor(definition, 'f0000001'));
    const waiting = await waitFor(async () => (await engine.list({ service: 'reviews' })).find((r) => r.state === 'awaiting-approval'), 20_000, 'the approval step');
    const added = await gitlabApi('POST', '/projects/42/freeze_periods', { freeze_start: '* * * * *', freeze_end: '0 0 1 1 *', cron_timezone: 'Europe/Berlin' });
    await new Promise((resolve) => setTimeout(resolve, 300));

    await engine.command({ verb: 'approve', actor: { username: 'rm', channel: 'gitlab' }, releaseId: waiting.id, stepIndex: waiting.stepIndex });
    const held = await waitFor(async () => {
      const release = await engine.get(waiting.id);
      return release?.wait?.kind === 'freeze' ? release : null;
    }, 20_000, 'the release held by the freeze');
    const checked = await waitFor(async () => {
      const release = await engine.get(waiting.id);
      return release && release.audit.filter((a) => a.action === 'check' && a.detail?.includes('while held at canary 10 %')).length >= 2 ? release : null;
    }, 20_000, 'checks while frozen');

    expect(added.status).toBe(201);
    expect(held.weights.canary).toBe(10);
    expect(held.wait?.sentence).toContain('Holding at canary 10 %');
    expect(held.audit.find((a) => a.action === 'freezes-changed')?.detail).toBe('GitLab deploy freeze periods now: "* * * * *" to "0 0 1 1 *" (Europe/Berlin)');
    expect(ports.router.writes.map((w) => w.traffic.weights.canary)).not.toContain(50);
    expect(checked.state).toBe('progressing');

    const deleted = await gitlabApi('DELETE', `/projects/42/freeze_periods/${(added.json as { id: number }).id}`);
    const ended: Release = await waitForEnd(engine, waiting.id, 30_000);

    expect(deleted.status).toBe(204);
    expect(ended.state).toBe('succeeded');
    expect(ended.audit.filter((a) => a.action === 'freezes-changed').map((a) => a.detail)).toEqual([
      'GitLab deploy freeze periods now: "* * * * *" to "0 0 1 1 *" (Europe/Berlin)',
      'GitLab deploy freeze periods now: none',
    ]);
    expect(ports.router.writes.map((w) => w.traffic.weights.canary)).toEqual(expect.arrayContaining([10, 50, 100]));
  }, 90_000);

  it('a release waiting to start on a freeze starts once the freeze is deleted in GitLab (the recovery pass brings the change)', async () => {
    const added = await gitlabApi('POST', '/projects/42/freeze_periods', { freeze_start: '* * * * *', freeze_end: '0 0 1 1 *' });
    const frozen = [{ freezeStart: '* * * * *', freezeEnd: '0 0 1 1 *', timezone: 'UTC' }];
    // In the bot the intake reads through the same calendar; here the trigger carries the periods,
    // so let the calendar's cache (200 ms) see the new freeze first.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await engine.trigger({ ...triggerFor(definition, 'f0000002'), freezes: frozen });
    const waiting = await waitFor(async () => (await engine.list({ service: 'reviews' })).find((r) => r.image.endsWith('f0000002') && r.wait?.kind === 'freeze'), 20_000, 'the release waiting to start');

    expect([waiting.state, waiting.phase]).toEqual(['pending', 'window']);
    expect(waiting.wait?.sentence).toMatch(/^Waiting to start: a GitLab deploy freeze \(from "\* \* \* \* \*" to "0 0 1 1 \*", UTC\) is in force\. It can start at /);

    await gitlabApi('DELETE', `/projects/42/freeze_periods/${(added.json as { id: number }).id}`);
    const started = await waitFor(async () => {
      const release = await engine.get(waiting.id);
      return release?.state === 'awaiting-approval' ? release : null;
    }, 30_000, 'the release to start after the freeze was deleted');

    expect(started.wait ?? null).toBeNull();
    expect(started.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['frozen', 'freezes-changed', 'window-open']));
    await engine.command({ verb: 'abort', actor: { username: 'rm', channel: 'gitlab' }, releaseId: started.id, stepIndex: started.stepIndex });
    expect((await waitForEnd(engine, started.id, 30_000)).state).toBe('aborted');
  }, 90_000);
});
