// A release train's progress in chat: the events worth a message, rendered per platform, sent to the
// entry member's channels and announced once across replicas.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainNotification, trainStatus } from '../../src/chatops/format-train.js';
import { createChatNotifier } from '../../src/chatops/notifier.js';
import { createTrainRun, type TrainRun } from '../../src/core/train/train-run.js';
import { loadDefinitions } from '../../src/pipelines/load-definitions.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { testRedis } from '../support/redis.js';

let redis: Redis;
let chat: ChatServer;
let run: TrainRun;

beforeAll(async () => {
  redis = new Redis(testRedis().url, { maxRetriesPerRequest: 1 });
  chat = await startChatServer();
  const { definitions, trains } = await loadDefinitions('test/fixtures/trains');
  run = { ...createTrainRun(trains[0]!, definitions, { reviews: { image: 'registry.example.com/bookinfo/reviews:v2' } }, 'bookinfo-lane-1', 0, null), state: 'awaiting-approval', stepIndex: 1 };
});
afterAll(async () => {
  redis.disconnect();
  await chat.close();
});

describe('train notifications', () => {
  it('renders the events worth a message and nothing for the others', () => {
    expect(trainNotification(run, 'approval-needed')).toEqual({
      slack: ':steam_locomotive: Release train *bookinfo-lane* is waiting for approval (run bookinfo-lane-1)\nMembers: productpage (stable), reviews reviews:v2, ratings (stable)\n`/canary train approve bookinfo-lane` (or promote/abort)',
      mattermost: ':steam_locomotive: Release train **bookinfo-lane** is waiting for approval (run bookinfo-lane-1)\nMembers: productpage (stable), reviews reviews:v2, ratings (stable)\n`/canary train approve bookinfo-lane` (or promote/abort)',
    });
    expect(trainNotification({ ...run, state: 'rolled-back', reason: 'alert X is firing for reviews' }, 'rolled-back')?.slack).toContain('Reason: alert X is firing for reviews');
    expect(trainNotification(run, 'checked')).toBeNull();
    expect(trainStatus(run).split('\n')[0]).toBe('🚂 train `bookinfo-lane` awaiting-approval, step 2/2 (approval) — run bookinfo-lane-1');
  });

  it('is announced once per key across replicas, to each platform channel', async () => {
    const options = {
      redis,
      prefix: testRedis().prefix,
      slackWebhookUrl: `${chat.url}/slack`,
      mattermostWebhookUrl: `${chat.url}/mattermost`,
      rateLimit: { capacity: 100, perSecond: 100 },
      retry: { attempts: 3, baseDelayMs: 10, timeoutMs: 1000 },
    };
    const [a, b] = [createChatNotifier(options), createChatNotifier(options)];
    const text = trainNotification(run, 'approval-needed')!;
    const notify = { slack: { channel: '#releases' }, mattermost: { channel: '~releases' } };

    a.announce('train:bookinfo-lane-1:1:approval-needed', run.id, notify, text);
    b.announce('train:bookinfo-lane-1:1:approval-needed', run.id, notify, text);
    await Promise.all([a.idle(), b.idle()]);

    expect(chat.postsTo('/slack').map((post) => post.body)).toEqual([{ channel: '#releases', text: text.slack }]);
    expect(chat.postsTo('/mattermost').map((post) => post.body)).toEqual([{ channel: 'releases', text: text.mattermost, username: 'canarybot' }]);
  });
});
