// The Redis train store on the run's real redis-server: the record after every decision, the index
// and the live set kept together, and the lease that names the one process driving a live run.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../../src/core/definition.js';
import type { TrainDefinition } from '../../src/core/train/train-definition.js';
import { createTrainRun, type TrainRun } from '../../src/core/train/train-run.js';
import { createRedisTrainStore, type TrainStore } from '../../src/engine/train-store.js';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { testRedis } from '../support/redis.js';

let redis: Redis;
let store: TrainStore;
let definitions: Definition[];
let train: TrainDefinition;

beforeAll(async () => {
  const { url, prefix } = testRedis();
  redis = new Redis(url);
  store = createRedisTrainStore(redis, prefix);
  const loaded = await loadDefinitions('test/fixtures/trains');
  definitions = loaded.definitions;
  train = loaded.trains[0]!;
});

afterAll(() => redis.disconnect());

const run = (id: string, createdAt: number, state: TrainRun['state'] = 'pending'): TrainRun => ({
  ...createTrainRun(train, definitions, { reviews: { image: 'registry.example.com/bookinfo/reviews:v2' } }, id, createdAt, null),
  state,
});

describe('the Redis train store', () => {
  it('keeps the record as written, lists newest first, and the live set follows the state', async () => {
    await store.save(run('a', 1));
    await store.save(run('b', 2));

    expect(await store.load('a')).toEqual(run('a', 1));
    expect((await store.list()).map((r) => r.id)).toEqual(['b', 'a']);
    expect((await store.liveIds()).sort()).toEqual(['a', 'b']);

    await store.save(run('a', 1, 'succeeded'));

    expect(await store.liveIds()).toEqual(['b']);
    expect((await store.load('a'))?.state).toBe('succeeded');
    expect(await store.load('missing')).toBeNull();
  });

  it('leases a run to one owner: renewed by it, refused to another until given up or lapsed', async () => {
    expect(await store.claim('c', 'one', 10_000)).toBe(true);
    expect(await store.claim('c', 'one', 10_000)).toBe(true);
    expect(await store.claim('c', 'two', 10_000)).toBe(false);

    await store.release('c', 'two');
    expect(await store.claim('c', 'two', 10_000)).toBe(false);
    await store.release('c', 'one');
    expect(await store.claim('c', 'two', 10_000)).toBe(true);

    expect(await store.claim('d', 'one', 50)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await store.claim('d', 'two', 10_000)).toBe(true);
  });
});
