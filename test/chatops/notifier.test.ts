import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChatNotifier, type ChatNotifierOptions } from '../../src/chatops/notifier.js';
import { createRedisTokenBucket } from '../../src/chatops/token-bucket.js';
import type { ReleaseEventKind } from '../../src/core/effect.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { testRedis } from '../support/redis.js';
import { definitionFixture, releaseFixture } from './release-fixture.js';

const { url: redisUrl } = testRedis();
let redis: Redis;
let chat: ChatServer;
let prefix: string;

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  chat = await startChatServer();
});
afterAll(async () => {
  redis.disconnect();
  await chat.close();
});
beforeEach(() => {
  prefix = testRedis().prefix;
  chat.posts.length = 0;
  chat.attempts.length = 0;
});

const notifierFor = (overrides: Partial<ChatNotifierOptions> = {}) =>
  createChatNotifier({
    redis,
    prefix,
    slackWebhookUrl: `${chat.url}/slack`,
    mattermostWebhookUrl: `${chat.url}/mattermost`,
    rateLimit: { capacity: 100, perSecond: 100 },
    retry: { attempts: 3, baseDelayMs: 10, timeoutMs: 1000 },
    ...overrides,
  });

describe('createChatNotifier', () => {
  it('announces each event once per platform, even when two replicas are told', async () => {
    const replicaA = notifierFor();
    const replicaB = notifierFor();
    const release = releaseFixture();
    const events: ReleaseEventKind[] = ['started', 'step-started', 'approval-needed', 'approved', 'promoting', 'promoted'];

    for (const event of events) {
      const snapshot = { ...release, stepIndex: event === 'started' ? -1 : release.stepIndex };
      await Promise.all([replicaA.notify(snapshot, event), replicaB.notify(snapshot, event), replicaA.notify(snapshot, event)]);
    }
    await Promise.all([replicaA.idle(), replicaB.idle()]);

    const slack = chat.postsTo('/slack').map((p) => (p.body as { text: string }).text);
    expect(slack).toHaveLength(3);
    expect(slack[0]).toMatch(/^:rocket: Release of \*reviews\*/);
    expect(slack[1]).toMatch(/`\/canary approve reviews`/);
    expect(slack[2]).toMatch(/promoted/);
    expect(chat.postsTo('/slack').every((p) => (p.body as { channel: string }).channel === '#releases')).toBe(true);
    expect(chat.postsTo('/mattermost').map((p) => p.body)).toEqual([
      expect.objectContaining({ channel: 'releases', username: 'canarybot', text: expect.stringContaining('**reviews**') }),
      expect.objectContaining({ text: expect.stringContaining('waiting for approval') }),
      expect.objectContaining({ text: expect.stringContaining('promoted') }),
    ]);
  });

  it('announces a second approval step and a retried release again', async () => {
    const notifier = notifierFor();
    const release = releaseFixture();

    await notifier.notify({ ...release, stepIndex: 1 }, 'approval-needed');
    await notifier.notify({ ...release, stepIndex: 4 }, 'approval-needed');
    await notifier.notify({ ...release, attempt: 1 }, 'started');
    await notifier.notify({ ...release, attempt: 2 }, 'started');
    await notifier.idle();

    expect(chat.postsTo('/slack')).toHaveLength(4);
  });

  it('posts only where the definition asks for it', async () => {
    const notifier = notifierFor({ mattermostWebhookUrl: undefined });
    const slackOnly = releaseFixture({ definition: definitionFixture({ notify: { slack: { channel: '#a' } } }) });
    const mattermostOnly = releaseFixture({ definition: definitionFixture({ notify: { mattermost: { channel: 'b' } } }) });
    const none = releaseFixture({ definition: definitionFixture({ notify: {} }) });

    await Promise.all([notifier.notify(slackOnly, 'started'), notifier.notify(mattermostOnly, 'started'), notifier.notify(none, 'started')]);
    await notifier.idle();

    expect(chat.posts.map((p) => [p.path, (p.body as { channel: string }).channel])).toEqual([['/slack', '#a']]);
  });

  it('retries a failing webhook a bounded number of times, then recovers', async () => {
    const notifier = notifierFor();
    chat.failNext('/slack', 2, 503);

    await notifier.notify(releaseFixture(), 'promoted');
    await notifier.idle();

    expect(chat.attempts.filter((p) => p.path === '/slack')).toHaveLength(3);
    expect(chat.postsTo('/slack')).toHaveLength(1);
  });

  it('never throws or waits for a chat outage, and gives up after its retries', async () => {
    const notifier = notifierFor();
    chat.failAlways('/slack', 500);
    chat.failAlways('/mattermost', 404);

    const result = notifier.notify(releaseFixture(), 'rolled-back');
    await expect(result).resolves.toBeUndefined();
    await notifier.idle();
    chat.heal('/slack');
    chat.heal('/mattermost');

    expect(chat.attempts.filter((p) => p.path === '/slack')).toHaveLength(3);
    // A 404 will not get better: no retries.
    expect(chat.attempts.filter((p) => p.path === '/mattermost')).toHaveLength(1);
    expect(chat.posts).toHaveLength(0);
  });

  it('never throws when Redis is unreachable', async () => {
    const broken = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    broken.on('error', () => undefined);
    const notifier = notifierFor({ redis: broken });

    await expect(notifier.notify(releaseFixture(), 'started')).resolves.toBeUndefined();
    await notifier.idle();
    broken.disconnect();

    expect(chat.posts).toHaveLength(0);
  });

  it('keeps a release\'s messages in order while rate-limited', async () => {
    const notifier = notifierFor({ rateLimit: { capacity: 1, perSecond: 20 } });
    const release = releaseFixture();
    const events: ReleaseEventKind[] = ['started', 'approval-needed', 'gate-failed', 'rolled-back'];

    for (const event of events) await notifier.notify(release, event);
    await notifier.idle();

    expect(chat.postsTo('/slack').map((p) => (p.body as { text: string }).text.split(' ')[0])).toEqual([':rocket:', ':raised_hand:', ':x:', ':rewind:']);
  });
});

describe('createRedisTokenBucket (real Redis, on Redis\' clock)', () => {
  it('lets a burst through, then one token per interval, shared by every client', async () => {
    const other = new Redis(redisUrl);
    const a = createRedisTokenBucket(redis, { capacity: 2, perSecond: 10 });
    const b = createRedisTokenBucket(other, { capacity: 2, perSecond: 10 });
    const key = `${prefix}:bucket`;

    const burst = [await a.take(key), await b.take(key)];
    const third = await a.take(key);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const later = await b.take(key);
    other.disconnect();

    expect(burst).toEqual([0, 0]);
    expect(third).toBeGreaterThan(0);
    expect(third).toBeLessThanOrEqual(100);
    expect(later).toBe(0);
  });

  it('is not refilled by a replica whose clock runs ten minutes ahead (the time is Redis\' own)', async () => {
    const key = `${prefix}:skewed`;
    const realNow = Date.now;
    const bucket = createRedisTokenBucket(redis, { capacity: 2, perSecond: 0.01 });
    await bucket.take(key);
    await bucket.take(key);
    Date.now = () => realNow() + 10 * 60_000;
    let skewed: number;
    try {
      skewed = await bucket.take(key);
    } finally {
      Date.now = realNow;
    }

    expect(skewed).toBeGreaterThan(60_000);
  });
});
