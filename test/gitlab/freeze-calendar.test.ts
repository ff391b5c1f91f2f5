// Deploy freeze periods read from the GitLab API test server with the real client (@gitbeaker/rest),
// cached and re-read after the TTL; the last answer stands during an outage.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowVerdict } from '../../src/core/windows.js';
import { createGitLabClient } from '../../src/gitlab/client.js';
import { FreezeCalendar } from '../../src/gitlab/freeze-calendar.js';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server.js';

let gitlab: GitLabApiServer;

beforeAll(async () => {
  gitlab = await startGitLabApiServer();
  gitlab.seed({
    projects: [
      // GitLab's documented example (weekend freeze) and a nightly one in New York time.
      { id: 42, path: 'bookinfo/reviews', freezePeriods: [{ freezeStart: '0 23 * * 5', freezeEnd: '0 7 * * 1', cronTimezone: 'UTC' }, { freezeStart: '0 23 * * *', freezeEnd: '0 6 * * *', cronTimezone: 'America/New_York' }] },
      { id: 43, path: 'bookinfo/ratings' },
    ],
  });
});

afterAll(async () => {
  await gitlab.close();
});

describe('FreezeCalendar', () => {
  it('reads GET /projects/:id/freeze_periods with the bot token, caches it, re-reads after the TTL', async () => {
    let now = Date.UTC(2026, 2, 28, 12, 0);
    const calendar = new FreezeCalendar(createGitLabClient({ url: gitlab.url, token: gitlab.token }), 300_000, () => now);
    gitlab.clearCalls();

    const first = await calendar.periods('bookinfo/reviews');
    await calendar.periods('bookinfo/reviews');
    now += 300_000;
    await calendar.periods('bookinfo/reviews');

    expect(first).toEqual([
      { freezeStart: '0 23 * * 5', freezeEnd: '0 7 * * 1', timezone: 'UTC' },
      { freezeStart: '0 23 * * *', freezeEnd: '0 6 * * *', timezone: 'America/New_York' },
    ]);
    expect(gitlab.callsTo('GET /projects/:id/freeze_periods')).toHaveLength(2);
    // The weekend freeze ends Monday 07:00 UTC, inside the New York night (23:00–06:00 EDT = 03:00–10:00 UTC).
    expect(windowVerdict([], first, Date.UTC(2026, 2, 28, 12, 0))).toMatchObject({ open: false, kind: 'freeze', opensAt: Date.UTC(2026, 2, 30, 10, 0) });
    expect(await calendar.periods(43)).toEqual([]);
  });

  it('keeps the last answer during a GitLab outage, and fails without one (a freeze is never assumed away)', async () => {
    let now = 0;
    const calendar = new FreezeCalendar(createGitLabClient({ url: gitlab.url, token: gitlab.token }), 1000, () => now);
    const known = await calendar.periods(42);
    gitlab.fail({ status: 503 });
    now += 5000;

    const stale = await calendar.periods(42);
    const unknown = await calendar.periods(43).then(() => 'read', (error: Error) => error.name);
    gitlab.heal();

    expect(stale).toEqual(known);
    expect(unknown).not.toBe('read');
  });
});
