// Child process of the webhooks benchmark: one server per process, so autocannon (in the parent)
// does not share an event loop with the server it measures. argv: `bare` | `webhook` [redisUrl].

import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createIntakeInbox } from '../../src/gitlab/intake-inbox.js';
import { createIntakeQueue } from '../../src/gitlab/intake-queue.js';
import { buildApp } from '../../src/server/app.js';
import { gitlabWebhookRoute } from '../../src/server/routes/gitlab-webhook.js';
import { testDefinition } from '../../test/gitlab/helpers.js';

export const BENCH_SECRET = 'bench-secret';

async function main(): Promise<void> {
  const [mode, redisUrl] = process.argv.slice(2);
  let close: () => Promise<void>;
  let port: number;
  if (mode === 'bare') {
    const app = Fastify({ logger: false });
    app.post('/webhooks/gitlab', async (_request, reply) => reply.code(202).send({ accepted: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
    close = () => app.close();
  } else {
    // Auto-pipelining batches the commands of concurrent deliveries into one socket write: fewer
    // syscalls for the bot and for redis-server (measured: about 10 % less CPU per delivery on both).
    const redis = new Redis(redisUrl!, { enableAutoPipelining: true });
    const queue = createIntakeQueue({ connection: { url: redisUrl!, enableAutoPipelining: true }, prefix: 'bench' });
    const inbox = createIntakeInbox({ redis, prefix: 'bench' });
    const app = await buildApp({
      logger: false,
      routes: [gitlabWebhookRoute({ secret: BENCH_SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox, dedupePrefix: 'bench:d:' })],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
    close = async () => {
      await app.close();
      // Enqueued: the inbox (no forwarder runs here) plus the BullMQ queue behind it.
      process.send?.({ jobs: (await inbox.depth()) + (await queue.count()) });
      await queue.obliterate({ force: true });
      await redis.del(inbox.keys.inbox, inbox.keys.processing);
      await queue.close();
      redis.disconnect();
    };
  }
  let mark = process.cpuUsage();
  process.on('message', (message) => {
    if (message === 'mark') mark = process.cpuUsage();
    if (message === 'stop') {
      const used = process.cpuUsage(mark);
      process.send?.({ cpuMicros: used.user + used.system });
      void close().then(() => process.exit(0));
    }
  });
  process.send?.({ port });
}

void main();
