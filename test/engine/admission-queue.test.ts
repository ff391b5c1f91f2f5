// The admission queue on a real Redis, below the engine: a release created in place of a superseded
// one, whose process died before putting it in line, is put back at the place it took over (read from
// its pending trigger), not at the back; putting a release in line again (a retry's job run twice)
// neither moves it nor puts one that already won a slot back in line.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelease } from '../../src/core/create-release.js';
import { QUEUED_PHASE } from '../../src/core/decide/queue-wait.js';
import type { Release } from '../../src/core/release.js';
import { AdmissionQueue } from '../../src/engine/admission-queue.js';
import { ReleaseStore, slotOf } from '../../src/engine/release-store.js';
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

async function created(service: string, tag: string, phase = QUEUED_PHASE): Promise<Release> {
  const trigger = triggerFor(canaryDefinition({ name: service }), tag);
  const release = { ...createRelease(trigger, `${service}-${tag}`, Date.now()), phase };
  expect((await store.create(release)).ok).toBe(true);
  return release;
}

function admissionQueue(keyPrefix: string, told = new Map<string, string>(), started: string[] = []): AdmissionQueue {
  return new AdmissionQueue(redis, (...parts) => [keyPrefix, 'engine', ...parts].join(':'), store, {
    limits: { namespaces: { bookinfo: 1 }, tenants: {} },
    tenantOf: () => null,
  }, {
    start: async (release) => void started.push(release.id),
    queued: async (release, sentence) => void told.set(release.id, sentence),
  });
}

describe('AdmissionQueue', () => {
  it('puts a release lost between its create and its ZADD back at the place it took over', async () => {
    const told = new Map<string, string>();
    const queue = admissionQueue(prefix, told);
    await created('ratings', 'a1', 'created');
    const superseded = await created('reviews', 'r1');
    await queue.enqueue(superseded);
    const behind = await created('details', 'd1');
    await queue.enqueue(behind);
    const place = (await queue.standing(superseded.id)).place;
    // The newer image took the superseded release's place; the superseded one ended and left the line.
    await redis.zrem(`${prefix}:engine:admission:queue`, superseded.id);
    const newer = await created('productpage', 'p1');
    await store.setPending(slotOf(newer), { id: newer.id, trigger: triggerFor(canaryDefinition({ name: 'productpage' }), 'p1'), place: place! });

    await queue.pass({ full: true });

    expect(place).not.toBeNull();
    expect((await queue.standing(newer.id)).place).toBe(place);
    expect(told.get(behind.id)).toContain(`queued before it: productpage (${newer.id})`);
    expect(told.get(newer.id)).not.toContain('queued before it');
  });

  it('putting a release in line twice keeps its place, and leaves one that won a slot alone', async () => {
    store = new ReleaseStore(redis, `${prefix}-again`);
    const started: string[] = [];
    const queue = admissionQueue(`${prefix}-again`, new Map(), started);
    const admitted = await created('stock', 's1');
    await queue.enqueue(admitted);
    const waiting = await created('cart', 'c1');
    await queue.enqueue(waiting);
    const before = await queue.standing(waiting.id);

    await queue.enqueue(admitted);
    await queue.enqueue(waiting);

    expect(new Set(started)).toEqual(new Set([admitted.id]));
    expect(await queue.standing(admitted.id)).toEqual({ place: null, admitted: true });
    expect(await queue.standing(waiting.id)).toEqual(before);
    expect(before).toEqual({ place: 2, admitted: false });
  });
});
