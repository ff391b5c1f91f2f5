import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import type { Release } from '../../src/core/release.js';
import { ReleaseStore, SlotTakenError, slotOf } from '../../src/engine/release-store.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;
let store: ReleaseStore;

beforeAll(() => {
  redis = new Redis(url);
  store = new ReleaseStore(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

function release(id: string, service = 'reviews', at = 1_000, mr: { projectId: number; iid: number } | null = null): Release {
  return createRelease(triggerFor(canaryDefinition({ name: service }), id, mr), id, at);
}

describe('ReleaseStore', () => {
  it('creates a record at version 1 and reads it back', async () => {
    await store.create(release('a1', 'svc-a'));

    const read = await store.get('a1');

    expect(read?.id).toBe('a1');
    expect(read?.version).toBe(1);
    expect(read?.state).toBe('pending');
  });

  it('allows one live release per (cluster, namespace, service)', async () => {
    const first = await store.create(release('b1', 'svc-b'));
    const second = await store.create(release('b2', 'svc-b', 2_000));
    const other = await store.create(release('c1', 'svc-c'));

    expect(first).toEqual({ ok: true, existed: false });
    expect(second).toEqual({ ok: false, holder: 'b1' });
    expect(other.ok).toBe(true);
    expect(await store.get('b2')).toBeNull();
  });

  it('lets exactly one of many concurrent creations for a slot win', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(release(`race${i}`, 'svc-race', 3_000 + i))));

    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await store.liveIds()).toContain((await store.liveInSlot(slotOf(release('x', 'svc-race')))) ?? 'none');
  });

  it('writes only when the stored version is the expected one, then increments it', async () => {
    await store.create(release('d1', 'svc-d'));
    const loaded = await store.load('d1');
    if (!loaded) throw new Error('missing');

    const written = await store.update(loaded, { release: { ...loaded.release, phase: 'first' } });
    const stale = store.update(loaded, { release: { ...loaded.release, phase: 'second' } });

    expect(written.version).toBe(2);
    await expect(stale).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect((await store.get('d1'))?.phase).toBe('first');
    expect((await store.get('d1'))?.version).toBe(2);
  });

  it('frees the slot when a release ends and refuses to revive it while another is live', async () => {
    await store.create(release('e1', 'svc-e'));
    const loaded = await store.load('e1');
    if (!loaded) throw new Error('missing');
    const ended = await store.update(loaded, { release: { ...loaded.release, state: 'rolled-back' } });

    const next = await store.create(release('e2', 'svc-e', 2_000));
    const revive = store.update(ended, { release: { ...ended.release, state: 'deploying' } });

    expect(next.ok).toBe(true);
    await expect(revive).rejects.toBeInstanceOf(SlotTakenError);
    expect(await store.liveIds()).not.toContain('e1');
  });

  it('lists newest first, live only, by service and by merge request', async () => {
    await store.create(release('f1', 'svc-f', 10_000, { projectId: 7, iid: 3 }));
    const f1 = await store.load('f1');
    if (!f1) throw new Error('missing');
    await store.update(f1, { release: { ...f1.release, state: 'succeeded' } });
    await store.create(release('f2', 'svc-f', 20_000, { projectId: 7, iid: 3 }));

    const byService = await store.list({ service: 'svc-f' });
    const liveOfService = await store.list({ service: 'svc-f', state: 'live' });
    const all = await store.list({ limit: 2 });

    expect(byService.map((r) => r.id)).toEqual(['f2', 'f1']);
    expect(liveOfService.map((r) => r.id)).toEqual(['f2']);
    expect(all.map((r) => r.id)).toEqual(['f2', 'f1']);
    expect((await store.findLiveByMergeRequest(7, 3))?.id).toBe('f2');
    expect((await store.findLatestByMergeRequest(7, 3))?.id).toBe('f2');
    expect(await store.findLiveByMergeRequest(7, 4)).toBeNull();
  });

  it('hands the per-release lock to one holder at a time', async () => {
    await store.create(release('g1', 'svc-g'));

    const first = await store.lockAndLoad('g1', 'token-1', 5_000);
    const second = await store.lockAndLoad('g1', 'token-2', 5_000);
    await store.finish('g1', 'token-2', 1, false);
    const stillHeld = await store.lockAndLoad('g1', 'token-3', 5_000);
    await store.finish('g1', 'token-1', 1, false);
    const free = await store.lockAndLoad('g1', 'token-4', 5_000);

    expect(first.kind).toBe('locked');
    expect(second.kind).toBe('busy');
    expect(stillHeld.kind).toBe('busy');
    expect(free.kind).toBe('locked');
    expect(await store.lockAndLoad('nope', 't', 5_000)).toEqual({ kind: 'missing' });
  });
});
