import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRelease } from '../../src/core/create-release.js';
import { ReleaseStore } from '../../src/engine/release-store.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { testRedis } from '../support/redis.js';

const { url, prefix } = testRedis();
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(url);
  const store = new ReleaseStore(redis, prefix);
  await store.create(createRelease(triggerFor(canaryDefinition({ name: 'ratings' }), 'aaaa1111'), 'ratings-1', Date.UTC(2026, 0, 1)));
  const first = await store.load('ratings-1');
  if (!first) throw new Error('missing');
  await store.update(first, { release: { ...first.release, state: 'succeeded', stepIndex: 4 } });
  await store.create(createRelease(triggerFor(canaryDefinition({ name: 'ratings' }), 'bbbb2222'), 'ratings-2', Date.UTC(2026, 0, 2)));
  await store.create(createRelease(triggerFor(canaryDefinition({ name: 'reviews' }), 'cccc3333'), 'reviews-1', Date.UTC(2026, 0, 3)));
  const reviews = await store.load('reviews-1');
  if (!reviews) throw new Error('missing');
  await store.update(reviews, { release: { ...reviews.release, state: 'rolled-back', stepIndex: 2 } });
});

afterAll(async () => {
  await redis.quit();
});

async function status(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const previous = process.env.REDIS_URL;
  process.env.REDIS_URL = url;
  try {
    const code = await main(['status', ...args]);
    return { code, out, err };
  } finally {
    process.env.REDIS_URL = previous;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('canarybot status', () => {
  it('prints live releases, then the latest release of services without one', async () => {
    const { code, out } = await status(['--prefix', prefix]);

    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+RELEASE\s+STATE\s+STEP\s+CANARY\s+IMAGE\s+UPDATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['bookinfo/ratings', 'ratings-2', 'pending', '-/5'],
      ['bookinfo/reviews', 'reviews-1', 'rolled-back', '3/5'],
    ]);
  });

  it('prints the history of one service', async () => {
    const { out } = await status(['ratings', '--prefix', prefix]);

    expect(out.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[1])).toEqual(['ratings-2', 'ratings-1']);
  });

  it('says so when there is nothing', async () => {
    const { out } = await status(['--prefix', `${prefix}-empty`]);

    expect(out).toBe('no releases\n');
  });

  it('prints help and refuses unknown options', async () => {
    const help = await status(['--help']);
    const bad = await status(['--nope']);

    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: canarybot status [service]');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown option --nope');
  });
});
