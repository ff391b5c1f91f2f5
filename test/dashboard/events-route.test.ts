// GET /api/events on a listening app and a real Redis: the snapshot first, then a row per write —
// including writes by another process's store (another replica) — and the stream ends on close.

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import { createReleaseChanges, type ReleaseChanges } from '../../src/engine/release-changes.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { buildApp } from '../../src/server/app.js';
import { eventsRoute } from '../../src/server/routes/events.js';
import { SseParser, type SseEvent } from '../../web/src/sse.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;
let otherReplica: Redis;
let store: ReleaseStore;
let changes: ReleaseChanges;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  redis = new Redis(url);
  otherReplica = new Redis(url);
  store = new ReleaseStore(redis, prefix);
  await store.create(createRelease(triggerFor(canaryDefinition({ name: 'reviews' }), 'aaaa1111'), 'live-1', Date.UTC(2026, 0, 1)));
  changes = createReleaseChanges({ redis, prefix });
  app = await buildApp({ logger: false, routes: [eventsRoute({ reader: store, changes, links: { grafanaUrl: 'https://grafana.example.com' } })] });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await changes.close();
  await redis.quit();
  await otherReplica.quit();
});

interface EventReader {
  /** Reads events until `until` says stop (or the stream ends, or the timeout). */
  read(until: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<SseEvent[]>;
}

function eventReader(response: Response): EventReader {
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  return {
    async read(until, timeoutMs = 5_000) {
      const events: SseEvent[] = [];
      const deadline = Date.now() + timeoutMs;
      while (!until(events)) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<{ done: true; value: undefined }>((resolve) => {
          timer = setTimeout(() => resolve({ done: true, value: undefined }), Math.max(0, deadline - Date.now()));
        });
        const { value, done } = await Promise.race([reader.read(), timeout]);
        clearTimeout(timer);
        if (done) break;
        events.push(...parser.feed(value));
      }
      return events;
    },
  };
}

describe('GET /api/events', () => {
  it('sends the live releases first, then a board row for each write, from any replica', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/api/events`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('no-cache');

    const stream = eventReader(response);
    const first = await stream.read((events) => events.length >= 1);
    expect(first[0]?.event).toBe('snapshot');
    const snapshot = JSON.parse(first[0]?.data ?? '') as { releases: Array<{ id: string; stepCount: number; traffic: unknown; links: { grafana: string } }> };
    expect(snapshot.releases.map((r) => r.id)).toEqual(['live-1']);
    expect(snapshot.releases[0]).toMatchObject({ stepCount: 5, traffic: { stable: 100, canary: 0, baseline: 0, mirror: 0 } });
    expect(snapshot.releases[0]?.links.grafana).toMatch(/^https:\/\/grafana\.example\.com\/\?var-namespace=bookinfo/);

    // Another replica: its own connection and store, same Redis.
    const replicaStore = new ReleaseStore(otherReplica, prefix);
    const loaded = await replicaStore.load('live-1');
    if (!loaded) throw new Error('missing');
    const readNext = stream.read((events) => events.length >= 1);
    await replicaStore.update(loaded, { release: { ...loaded.release, state: 'progressing', stepIndex: 0, weights: { stable: 90, canary: 10 } } });
    const [event] = await readNext;
    controller.abort();

    expect(event?.event).toBe('release');
    expect(JSON.parse(event?.data ?? '')).toMatchObject({ id: 'live-1', state: 'progressing', step: 0, stepKind: 'setWeight', traffic: { stable: 90, canary: 10 } });
  });

  it('tells a new stream of a release created after it connected', async () => {
    const controller = new AbortController();
    const stream = eventReader(await fetch(`${base}/api/events`, { signal: controller.signal }));
    await stream.read((events) => events.length >= 1);

    const next = stream.read((events) => events.some((e) => e.event === 'release'));
    await store.create(createRelease(triggerFor(canaryDefinition({ name: 'ratings' }), 'bbbb2222'), 'live-2', Date.UTC(2026, 0, 2)));
    const events = await next;
    controller.abort();

    expect(events.filter((e) => e.event === 'release').map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual(['live-2']);
  });

  it('ends open streams when the app closes', async () => {
    const own = await buildApp({ logger: false, routes: [eventsRoute({ reader: store, changes })] });
    const address = await own.listen({ host: '127.0.0.1', port: 0 });
    const stream = eventReader(await fetch(`${address}/api/events`));
    await stream.read((events) => events.length >= 1);

    const started = Date.now();
    await own.close();
    const rest = await stream.read(() => false, 5_000);

    expect(rest).toEqual([]);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
