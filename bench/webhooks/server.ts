// Child process of the webhooks benchmark: one server per process, so autocannon (in the parent)
// does not share an event loop with the server it measures. argv: `bare` | `webhook` [redisUrl].

import { openSync, writeSync } from 'node:fs';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createIntakeInbox } from '../../src/gitlab/intake-inbox.js';
import { createIntakeQueue } from '../../src/gitlab/intake-queue.js';
import { createMetrics } from '../../src/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/create-logger.js';
import { gitlabWebhookRoute } from '../../src/server/routes/gitlab-webhook.js';
import { testDefinition } from '../../test/gitlab/helpers.js';
import { BENCH_SECRET } from './bench-secret.js';

const DEDUPE_PREFIX = 'bench:d:';

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
    // The same Redis options as `canarybot serve`: the inbox batches concurrent deliveries itself
    // (ioredis auto-pipelining on top of that measured about 10 % more CPU per delivery).
    const redis = new Redis(redisUrl!);
    const queue = createIntakeQueue({ connection: { url: redisUrl! }, prefix: 'bench' });
    const inbox = createIntakeInbox({ redis, prefix: 'bench' });
    // Logged and counted as `canarybot serve` does (LOG_LEVEL info, secrets masked, Prometheus
    // counters); the lines go to /dev/null with one synchronous write each, as to a stdout pipe.
    const devNull = openSync('/dev/null', 'w');
    const logger = createLogger({ level: 'info', secrets: [BENCH_SECRET], destination: { write: (line: string) => writeSync(devNull, line) } });
    const app = await buildApp({
      logger,
      routes: [
        gitlabWebhookRoute({ secret: BENCH_SECRET, definitions: [testDefinition()], botUsername: 'canarybot', inbox, dedupePrefix: DEDUPE_PREFIX, metrics: createMetrics() }),
      ],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
    close = async () => {
      await app.close();
      // Enqueued: the inbox (no forwarder runs here) plus the BullMQ queue behind it.
      process.send?.({ jobs: (await inbox.depth()) + (await queue.count()) });
      await queue.obliterate({ force: true });
      await redis.del(inbox.keys.inbox, inbox.keys.processing);
      // The dedupe keys too (24 h TTL): with REDIS_URL the benchmark runs against someone's Redis.
      for await (const batch of redis.scanStream({ match: `${DEDUPE_PREFIX}*`, count: 1000 })) {
        if ((batch as string[]).length > 0) await redis.unlink(...(batch as string[]));
      }
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
