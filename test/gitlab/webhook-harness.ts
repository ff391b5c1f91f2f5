// POST /webhooks/gitlab on a real Redis, as the route and fuzz tests drive it (app.inject): the inbox
// the route writes to and the intake queue behind it, with no forwarder running, so what a delivery
// enqueued stays where a test can count it.

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createIntakeInbox, type IntakeInbox } from '../../src/gitlab/intake-inbox.js';
import { createIntakeQueue } from '../../src/gitlab/intake-queue.js';
import { buildApp } from '../../src/server/app.js';
import { gitlabWebhookRoute, type GitLabWebhookRouteOptions } from '../../src/server/routes/gitlab-webhook.js';
import { testRedis } from '../support/redis.js';
import { testDefinition } from './helpers.js';

export interface WebhookHarness {
  app: FastifyInstance;
  redis: Redis;
  inbox: IntakeInbox;
  /** Key prefix of this test file's queue and inbox (testRedis). */
  prefix: string;
  /** Jobs enqueued, in any state: the inbox plus the BullMQ queue behind it. */
  jobCount(): Promise<number>;
  /** Empties the inbox and the queue (between tests). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export type WebhookHarnessOptions = Omit<GitLabWebhookRouteOptions, 'inbox' | 'dedupePrefix' | 'definitions' | 'botUsername'> &
  Partial<Pick<GitLabWebhookRouteOptions, 'definitions' | 'botUsername'>>;

export async function startWebhookHarness(options: WebhookHarnessOptions): Promise<WebhookHarness> {
  const { url, prefix } = testRedis();
  const redis = new Redis(url);
  const queue = createIntakeQueue({ connection: { url }, prefix });
  const inbox = createIntakeInbox({ redis, prefix });
  const app = await buildApp({
    logger: false,
    routes: [
      gitlabWebhookRoute({
        definitions: [testDefinition()],
        botUsername: 'canarybot',
        ...options,
        inbox,
        dedupePrefix: `${prefix}:delivery:`,
      }),
    ],
  });
  const clear = async (): Promise<void> => {
    await queue.obliterate({ force: true });
    await redis.del(inbox.keys.inbox, inbox.keys.processing);
  };
  return {
    app,
    redis,
    inbox,
    prefix,
    async jobCount() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'paused');
      return Object.values(counts).reduce((sum, n) => sum + n, await inbox.depth());
    },
    clear,
    async close() {
      await app.close();
      await clear();
      await queue.close();
      redis.disconnect();
    },
  };
}
