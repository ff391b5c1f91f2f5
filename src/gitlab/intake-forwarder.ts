// Moves the webhook inbox into the `gitlab-intake` BullMQ queue, at least once and without
// duplicates: an item is moved atomically to a processing list (BLMOVE), added to BullMQ under its
// deterministic job id (a second add of the same id is a no-op while the job is kept), then removed
// from the processing list. Items left in the processing list by a crash are pushed back to the
// inbox on start and, while running, when they have sat there for a whole sweep interval. Several
// forwarders (bot replicas) may share one Redis.

import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import type { InboxItem } from './intake-inbox.js';
import { intakeInboxKeys } from './intake-inbox.js';
import type { IntakeQueue } from './intake-queue.js';

export interface IntakeForwarderOptions {
  /** Used for the non-blocking commands; a duplicate of it does the blocking BLMOVE. */
  redis: RedisClient;
  queue: IntakeQueue;
  /** Must equal the route's inbox prefix and the queue's prefix. */
  prefix?: string;
  /** How long one BLMOVE blocks, seconds (default 1): bounds how long close() waits. */
  blockSeconds?: number;
  /** Interval of the stale-item sweep, ms (default 60 s; 0 disables it). */
  sweepMs?: number;
  logger?: Logger;
}

export interface IntakeForwarder {
  /** Pushes leftovers back, then forwards until closed. */
  start(): Promise<void>;
  /** Stops after the item in hand (if any) is forwarded. Idempotent. */
  close(): Promise<void>;
}

// KEYS[1] processing, KEYS[2] inbox; ARGV: items. Each item still in processing goes back to the inbox.
export const REQUEUE = `
local moved = 0
for i = 1, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved`;

export function createIntakeForwarder(options: IntakeForwarderOptions): IntakeForwarder {
  const keys = intakeInboxKeys(options.prefix);
  const redis = options.redis;
  const blockSeconds = options.blockSeconds ?? 1;
  const sweepMs = options.sweepMs ?? 60_000;
  let blocking: RedisClient | null = null;
  let loop: Promise<void> | null = null;
  let stopped = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  let previousSweep = new Set<string>();

  const requeue = async (items: string[]): Promise<number> =>
    items.length === 0 ? 0 : ((await redis.eval(REQUEUE, 2, keys.processing, keys.inbox, ...items)) as number);

  const forward = async (raw: string): Promise<void> => {
    let item: InboxItem;
    try {
      item = JSON.parse(raw) as InboxItem;
      if (typeof item.id !== 'string' || typeof item.job?.kind !== 'string') throw new Error('not an inbox item');
    } catch (error) {
      options.logger?.error({ err: error }, 'gitlab intake inbox: dropping an unreadable item');
      await redis.lrem(keys.processing, 1, raw);
      return;
    }
    await options.queue.add(item.job.kind, item.job, { jobId: item.id });
    await redis.lrem(keys.processing, 1, raw);
  };

  const run = async (connection: RedisClient): Promise<void> => {
    while (!stopped) {
      try {
        const raw = await connection.blmove(keys.inbox, keys.processing, 'LEFT', 'RIGHT', blockSeconds);
        if (raw !== null) await forward(raw);
      } catch (error) {
        if (stopped) return;
        options.logger?.warn({ err: error }, 'gitlab intake forwarder: retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  // Items seen in two sweeps in a row are stuck (forwarding one takes milliseconds): push them back.
  const sweep = async (): Promise<void> => {
    const now = await redis.lrange(keys.processing, 0, -1);
    const stale = now.filter((item) => previousSweep.has(item));
    previousSweep = new Set(now);
    const moved = await requeue(stale);
    if (moved > 0) options.logger?.warn({ items: moved }, 'gitlab intake forwarder: stale items pushed back to the inbox');
  };

  return {
    async start() {
      if (loop || stopped) return;
      const leftovers = await requeue(await redis.lrange(keys.processing, 0, -1));
      if (leftovers > 0) options.logger?.info({ items: leftovers }, 'gitlab intake forwarder: items left in processing pushed back');
      blocking = redis.duplicate();
      blocking.on('error', () => undefined);
      loop = run(blocking);
      if (sweepMs > 0) {
        sweepTimer = setInterval(() => {
          sweep().catch((error: unknown) => options.logger?.warn({ err: error }, 'gitlab intake forwarder: sweep failed'));
        }, sweepMs);
        sweepTimer.unref();
      }
    },
    async close() {
      stopped = true;
      clearInterval(sweepTimer);
      // A BLMOVE returns within blockSeconds; while Redis is away it would not, so give up waiting then.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([loop, new Promise((resolve) => (timer = setTimeout(resolve, blockSeconds * 1000 + 1000)))]);
      clearTimeout(timer);
      loop = null;
      blocking?.disconnect();
      blocking = null;
    },
  };
}
