// GET /api/releases with the history's filters and cursor, over the real store on a real Redis.

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import type { Release } from '../../src/core/release.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { buildApp } from '../../src/server/app.js';
import { releasesRoutes } from '../../src/server/routes/releases.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;
let app: FastifyInstance;
const DAY = 24 * 60 * 60 * 1000;
const START = Date.UTC(2026, 0, 1);

/** 12 releases, one a day: reviews and ratings alternating; outcomes cycle; every third approved by bob; the last one live. */
async function seed(store: ReleaseStore): Promise<void> {
  const outcomes = ['succeeded', 'rolled-back', 'aborted'] as const;
  for (let i = 0; i < 12; i++) {
    const service = i % 2 === 0 ? 'reviews' : 'ratings';
    const release = createRelease(triggerFor(canaryDefinition({ name: service }), `tag${i}`), `r${String(i).padStart(2, '0')}`, START + i * DAY);
    await store.create(release);
    if (i === 11) continue;
    const loaded = await store.load(release.id);
    if (!loaded) throw new Error('missing');
    const audit: Release['audit'] = i % 3 === 0 ? [...release.audit, { at: START + i * DAY + 1, actor: { username: 'Bob', channel: 'api' }, action: 'approved', stepIndex: 1 }] : release.audit;
    await store.update(loaded, { release: { ...loaded.release, state: outcomes[i % 3] as Release['state'], audit, reason: `reason ${i}`, endedAt: START + i * DAY + 60_000 } });
  }
}

beforeAll(async () => {
  redis = new Redis(url);
  const store = new ReleaseStore(redis, prefix);
  await seed(store);
  app = await buildApp({ logger: false, routes: [releasesRoutes({ reader: store, history: store })] });
});

afterAll(async () => {
  await app.close();
  await redis.quit();
});

async function ids(query: string): Promise<{ ids: string[]; next: string | null }> {
  const response = await app.inject({ method: 'GET', url: `/api/releases?${query}` });
  expect(response.statusCode).toBe(200);
  const body = response.json() as { releases: Array<{ id: string }>; next: string | null };
  return { ids: body.releases.map((r) => r.id), next: body.next };
}

describe('GET /api/releases as history', () => {
  it.each([
    ['ended=true', ['r10', 'r09', 'r08', 'r07', 'r06', 'r05', 'r04', 'r03', 'r02', 'r01', 'r00']],
    ['ended=true&service=ratings', ['r09', 'r07', 'r05', 'r03', 'r01']],
    ['outcome=rolled-back', ['r10', 'r07', 'r04', 'r01']],
    ['user=bob', ['r09', 'r06', 'r03', 'r00']],
    ['user=@BOB&outcome=succeeded', ['r09', 'r06', 'r03', 'r00']],
    ['from=2026-01-03&to=2026-01-05T23:59:59Z', ['r04', 'r03', 'r02']],
    ['ended=false&service=reviews&limit=2', ['r10', 'r08']],
  ])('%s', async (query, expected) => {
    expect((await ids(query)).ids).toEqual(expected);
  });

  it('pages with the cursor it returns, to the last page', async () => {
    const first = await ids('ended=true&limit=4');
    const second = await ids(`ended=true&limit=4&before=${first.next ?? ''}`);
    const third = await ids(`ended=true&limit=4&before=${second.next ?? ''}`);

    expect(first.ids).toEqual(['r10', 'r09', 'r08', 'r07']);
    expect(second.ids).toEqual(['r06', 'r05', 'r04', 'r03']);
    expect(third).toEqual({ ids: ['r02', 'r01', 'r00'], next: null });
  });

  it('answers board rows with view=board', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases?view=board&outcome=aborted&limit=1' });

    const [row] = (response.json() as { releases: Array<Record<string, unknown>> }).releases;
    expect(row).toMatchObject({ id: 'r08', state: 'aborted', reason: 'reason 8', strategy: 'canary', stepCount: 5, endedAt: '2026-01-09T00:01:00.000Z' });
  });

  it.each([
    ['outcome=progressing', 'outcome must be one of succeeded, rolled-back, failed, superseded, aborted'],
    ['from=yesterday', 'from must be a date (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)'],
    ['before=nonsense', 'before must be the "next" value of a previous page'],
    ['ended=yes', 'ended must be true or false'],
    ['ended=true&state=live', 'state cannot be combined with history filters (use outcome)'],
    ['view=table', 'view must be "board" (or left out for summaries)'],
  ])('refuses %s with one sentence', async (query, error) => {
    const response = await app.inject({ method: 'GET', url: `/api/releases?${query}` });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error });
  });
});
