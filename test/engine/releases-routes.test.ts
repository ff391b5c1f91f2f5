import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { buildApp } from '../../src/server/app.js';
import { releasesRoutes } from '../../src/server/routes/releases.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;
let app: FastifyInstance;

beforeAll(async () => {
  redis = new Redis(url);
  const store = new ReleaseStore(redis, prefix);
  const old = createRelease(triggerFor(canaryDefinition({ name: 'ratings' }), 'aaaa1111', { projectId: 4, iid: 9 }), 'old', Date.UTC(2026, 0, 1));
  await store.create(old);
  const loaded = await store.load('old');
  if (!loaded) throw new Error('missing');
  await store.update(loaded, {
    release: {
      ...loaded.release,
      state: 'rolled-back',
      stepIndex: 2,
      reason: 'request-success-rate 91.2 < 99',
      gates: [
        {
          stepIndex: 2,
          check: { verdict: 'fail', at: Date.UTC(2026, 0, 1, 0, 5), measurements: [{ name: 'request-success-rate', verdict: 'fail', value: 91.2, threshold: '>= 99' }] },
        },
      ],
      audit: [...loaded.release.audit, { at: Date.UTC(2026, 0, 1, 0, 5), actor: null, action: 'gate-failed', stepIndex: 2 }],
      endedAt: Date.UTC(2026, 0, 1, 0, 6),
    },
  });
  await store.create(createRelease(triggerFor(canaryDefinition({ name: 'reviews' }), 'bbbb2222'), 'new', Date.UTC(2026, 0, 2)));
  app = await buildApp({ logger: false, routes: [releasesRoutes({ reader: store })] });
});

afterAll(async () => {
  await app.close();
  await redis.quit();
});

describe('GET /api/releases', () => {
  it('lists summaries newest first', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases' });

    expect(response.statusCode).toBe(200);
    const body = response.json() as { releases: Array<Record<string, unknown>> };
    expect(body.releases.map((r) => r.id)).toEqual(['new', 'old']);
    expect(Object.keys(body.releases[0] ?? {}).sort()).toEqual(
      ['cluster', 'createdAt', 'definition', 'id', 'image', 'mr', 'namespace', 'service', 'sha', 'state', 'step', 'updatedAt', 'weights'].sort(),
    );
    expect(body.releases[1]).toMatchObject({
      definition: 'ratings',
      service: 'ratings',
      namespace: 'bookinfo',
      cluster: 'default',
      image: 'registry.example.com/bookinfo/ratings:aaaa1111',
      mr: { projectId: 4, iid: 9 },
      state: 'rolled-back',
      step: 2,
      weights: { stable: 100, canary: 0 },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('lists only live releases with ?state=live', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases?state=live' });

    expect((response.json() as { releases: Array<{ id: string }> }).releases.map((r) => r.id)).toEqual(['new']);
  });

  it.each(['/api/releases?state=done', '/api/releases?limit=0', '/api/releases?limit=abc'])('refuses %s with 400', async (url) => {
    const response = await app.inject({ method: 'GET', url });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toHaveProperty('error');
  });
});

describe('GET /api/releases/:id', () => {
  it('adds steps with their status, gates with figures and the audit trail', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases/old' });

    expect(response.statusCode).toBe(200);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ id: 'old', state: 'rolled-back', reason: 'request-success-rate 91.2 < 99', endedAt: '2026-01-01T00:06:00.000Z' });
    expect((body.steps as Array<{ kind: string; weight: number; status: string }>).map((s) => [s.kind, s.weight, s.status])).toEqual([
      ['setWeight', 10, 'done'],
      ['pause', 10, 'done'],
      ['analysis', 10, 'stopped'],
      ['setWeight', 50, 'skipped'],
      ['setWeight', 100, 'skipped'],
    ]);
    expect(body.gates).toEqual([
      {
        stepIndex: 2,
        verdict: 'fail',
        at: '2026-01-01T00:05:00.000Z',
        measurements: [{ name: 'request-success-rate', verdict: 'fail', value: 91.2, threshold: '>= 99' }],
      },
    ]);
    expect((body.audit as Array<{ action: string; at: string }>).map((a) => a.action)).toEqual(['created', 'gate-failed']);
  });

  it('shows a release that has not started with every step pending', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases/new' });

    expect((response.json() as { steps: Array<{ status: string }> }).steps.every((s) => s.status === 'pending')).toBe(true);
  });

  it('answers 404 for an unknown release', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/releases/nope' });

    expect(response.statusCode).toBe(404);
  });
});

describe('GET /api/releases during a Redis outage', () => {
  it('answers 503 at once with a sentence, never asking the store, and without driver internals when a read fails', async () => {
    let asked = 0;
    let up = false;
    const failing = {
      get: async () => {
        asked++;
        throw new Error('Reached the max retries per request limit (which is 5). Refer to "maxRetriesPerRequest" option for details.');
      },
      list: async () => {
        asked++;
        throw new Error('Reached the max retries per request limit (which is 5). Refer to "maxRetriesPerRequest" option for details.');
      },
    };
    const outage = await buildApp({ logger: false, routes: [releasesRoutes({ reader: failing, available: () => up })] });
    try {
      const down = [await outage.inject({ method: 'GET', url: '/api/releases' }), await outage.inject({ method: 'GET', url: '/api/releases/x' })];
      const askedWhileDown = asked;
      up = true;
      const failed = await outage.inject({ method: 'GET', url: '/api/releases?state=live' });

      expect(down.map((r) => r.statusCode)).toEqual([503, 503]);
      expect(down[0]!.json()).toEqual({ error: 'the release store (Redis) is unavailable; retry in a moment' });
      expect(askedWhileDown).toBe(0);
      expect(failed.statusCode).toBe(503);
      expect(failed.body).not.toMatch(/maxRetriesPerRequest|max retries/);
    } finally {
      await outage.close();
    }
  });
});
