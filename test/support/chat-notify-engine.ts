// An engine process whose Notifier is the real chat notifier, for the chat notification test with
// several engine processes on one Redis. Ports are the in-memory fakes; services whose name ends
// in -bad fail their analysis.
// Run: node --import tsx test/support/chat-notify-engine.ts
// (REDIS_URL, CHAT_PREFIX, SLACK_WEBHOOK_URL, MATTERMOST_WEBHOOK_URL in the environment)

import { Redis } from 'ioredis';
import { createChatReplier } from '../../src/chatops/chat-replier.js';
import { createChatNotifier } from '../../src/chatops/notifier.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { failBadServicesGate, fakePorts } from './fakes.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.CHAT_PREFIX ?? 'chat';
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);

const notifier = createChatNotifier({
  redis,
  prefix,
  slackWebhookUrl: process.env.SLACK_WEBHOOK_URL,
  mattermostWebhookUrl: process.env.MATTERMOST_WEBHOOK_URL,
  rateLimit: { capacity: 100, perSecond: 100 },
  retry: { attempts: 3, baseDelayMs: 20, timeoutMs: 2_000 },
});
const ports = { ...fakePorts(), notifier, replier: createChatReplier() };
ports.gates.evaluate = failBadServicesGate;

const engine = createEngine({
  redisUrl,
  prefix,
  ports,
  concurrency: 4,
  timing: { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 },
});

const stop = (): void => {
  void engine
    .close()
    .then(() => notifier.idle())
    .then(() => redis.quit())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await engine.start();
process.stdout.write('ready\n');
