// The intake as `serve` wires it, for the end-to-end intake tests: the webhook route (app.inject)
// writing to the inbox, the forwarder moving it into the `gitlab-intake` queue, and the intake worker
// handing jobs to whatever engine, GitLab client and replier the test gives it.

import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createIntakeForwarder, type IntakeForwarder } from '../../src/gitlab/intake-forwarder.js';
import { createIntakeInbox } from '../../src/gitlab/intake-inbox.js';
import type { IntakeJob } from '../../src/gitlab/intake-job.js';
import { createIntakeQueue, type IntakeQueue } from '../../src/gitlab/intake-queue.js';
import { createIntakeWorker, type IntakeWorkerOptions } from '../../src/gitlab/intake-worker.js';
import { buildApp } from '../../src/server/app.js';
import { gitlabWebhookRoute } from '../../src/server/routes/gitlab-webhook.js';
import type { Payload } from './helpers.js';

export interface IntakeStackOptions extends Omit<IntakeWorkerOptions, 'connection' | 'prefix'> {
  redisUrl: string;
  prefix: string;
  /** The forwarder's and the inbox's connection. */
  redis: Redis;
  /** GITLAB_WEBHOOK_SECRET of the route. */
  secret: string;
  /** Tries per job (default the intake's own). */
  attempts?: number;
}

export interface IntakeStack {
  queue: IntakeQueue;
  /** Posts a hook with a fresh Idempotency-Key; resolves to the job id of the 202, throws on any other answer. */
  deliver(hook: Payload): Promise<string>;
  close(): Promise<void>;
}

export async function startIntakeStack(options: IntakeStackOptions): Promise<IntakeStack> {
  const { redisUrl, prefix, redis, secret, attempts, ...deps } = options;
  const queue = createIntakeQueue({ connection: { url: redisUrl }, prefix, ...(attempts ? { attempts } : {}) });
  const forwarder: IntakeForwarder = createIntakeForwarder({ redis, queue, prefix, blockSeconds: 0.2 });
  await forwarder.start();
  const worker: Worker<IntakeJob> = createIntakeWorker({ ...deps, connection: { url: redisUrl }, prefix });
  const app: FastifyInstance = await buildApp({
    logger: false,
    routes: [gitlabWebhookRoute({ secret, definitions: deps.definitions, botUsername: 'canarybot', inbox: createIntakeInbox({ redis, prefix }), dedupePrefix: `${prefix}:d:` })],
  });
  return {
    queue,
    async deliver(hook) {
      const response = await app.inject({
        method: 'POST',
        url: '/webhooks/gitlab',
        headers: { 'content-type': 'application/json', 'x-gitlab-token': secret, 'idempotency-key': randomUUID() },
        payload: hook,
      });
      if (response.statusCode !== 202) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
      return response.json<{ job: string }>().job;
    },
    async close() {
      await app.close();
      await forwarder.close();
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}
