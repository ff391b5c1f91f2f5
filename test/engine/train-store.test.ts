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

  it('keeps a run\'s inbox in order until the driver trims what it decided', async () => {
    const alert = { type: 'alert' as const, member: 'reviews', name: 'ReviewsErrors' };
    await store.pushInbox('e', { id: 'm1', input: alert });
    await store.pushInbox('e', { id: 'm2', input: { type: 'command', verb: 'abort', actor: { username: 'rm', channel: 'api' } }, deadline: 123 });
    await store.pushInbox('e', { id: 'm3', input: alert });

    expect((await store.peekInbox('e', 2)).map((message) => message.id)).toEqual(['m1', 'm2']);
    expect((await store.peekInbox('e', 10))[1]).toEqual({ id: 'm2', input: { type: 'command', verb: 'abort', actor: { username: 'rm', channel: 'api' } }, deadline: 123 });

    await store.trimInbox('e', 2);
    await store.pushInbox('e', { id: 'm4', input: alert });

    expect((await store.peekInbox('e', 10)).map((message) => message.id)).toEqual(['m3', 'm4']);
    await store.trimInbox('e', 0);
    expect(await store.peekInbox('e', 10)).toHaveLength(2);
  });

  it('delivers an alert to a run once, until the claim is forgotten; another run gets it too', async () => {
    expect(await store.claimAlert('f', 'fp:2026-12-06T10:00:00Z')).toBe(true);
    expect(await store.claimAlert('f', 'fp:2026-12-06T10:00:00Z')).toBe(false);
    expect(await store.claimAlert('g', 'fp:2026-12-06T10:00:00Z')).toBe(true);

    await store.forgetAlert('f', 'fp:2026-12-06T10:00:00Z');
    expect(await store.claimAlert('f', 'fp:2026-12-06T10:00:00Z')).toBe(true);
  });

  it('gives a command to whoever takes it first, driver or caller, and keeps the driver\'s answer', async () => {
    expect(await store.takeCommand('c1', 'driver')).toBe('driver');
    expect(await store.takeCommand('c1', 'caller')).toBe('driver');
    expect(await store.takeCommand('c1', 'driver')).toBe('driver');
    expect(await store.takeCommand('c2', 'caller')).toBe('caller');
    expect(await store.takeCommand('c2', 'driver')).toBe('caller');

    expect(await store.getReply('c1')).toBeNull();
    await store.putReply('c1', { ok: true, message: 'train bookinfo-lane approved by @rm' });
    expect(await store.getReply('c1')).toEqual({ ok: true, message: 'train bookinfo-lane approved by @rm' });
  });
});
