// The inbox in front of the `gitlab-intake` queue: the webhook route deduplicates a delivery and
// enqueues it in ONE Redis round trip (a Lua script: dedupe keys checked, fresh items pushed, keys
// set), shared by the deliveries of one event-loop turn; the intake forwarder moves the inbox into
// BullMQ with a deterministic job id.

import type { RedisClient } from '../redis/connect-redis.js';
import type { IntakeJob } from './intake-job.js';
import { INTAKE_QUEUE_NAME } from './intake-queue.js';

/** One inbox item: the BullMQ job id (deterministic per delivery, no ':') and the job. */
export interface InboxItem {
  id: string;
  job: IntakeJob;
}

export interface IntakeInboxKeys {
  /** List the route pushes to. */
  inbox: string;
  /** List of items a forwarder has taken but not yet added to BullMQ. */
  processing: string;
}

/** Keys next to the BullMQ queue of the same prefix (default `bull`, as BullMQ's). */
export function intakeInboxKeys(prefix?: string): IntakeInboxKeys {
  const base = `${prefix ?? 'bull'}:${INTAKE_QUEUE_NAME}-inbox`;
  return { inbox: base, processing: `${base}:processing` };
}

/** BullMQ job id of a delivery, from the hex digest of its delivery id. */
export function intakeJobId(deliveryHash: string): string {
  return `gl-${deliveryHash}`;
}

// KEYS[1..n] dedupe keys of n deliveries, KEYS[n+1] the inbox; ARGV[2i-1] ttl seconds and ARGV[2i]
// item of delivery i. Returns one flag per delivery: 1 accepted, 0 duplicate (seen before, or earlier
// in the same batch). One SET NX per delivery, then ONE push of the fresh items; if the push fails,
// the keys this call set are deleted again, so no delivery is marked as seen without its item.
// (Checking with EXISTS first and setting after the push cost Redis 25 % more CPU per delivery.)
export const ACCEPT_BATCH = `
local n = #KEYS - 1
local fresh, items, marked = {}, {}, {}
for i = 1, n do
  if redis.call('SET', KEYS[i], '1', 'EX', ARGV[2 * i - 1], 'NX') then
    fresh[i] = 1
    items[#items + 1] = ARGV[2 * i]
    marked[#marked + 1] = KEYS[i]
  else
    fresh[i] = 0
  end
end
if #items > 0 then
  local pushed = redis.pcall('RPUSH', KEYS[n + 1], unpack(items))
  if type(pushed) == 'table' and pushed.err then
    redis.call('DEL', unpack(marked))
    return redis.error_reply(pushed.err)
  end
end
return fresh`;

const COMMAND = 'canarybotIntakeAcceptBatch';

type WithAccept = RedisClient & { [COMMAND](numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]> };

/**
 * Options for the inbox's own Redis connection. The webhook route awaits it, so while Redis is away
 * a call fails after one reconnection attempt or 2 s instead of waiting for Redis to return: GitLab
 * gets a 503 at once and retries, rather than holding a connection until its own timeout.
 */
export const INBOX_REDIS_OPTIONS = { maxRetriesPerRequest: 1, commandTimeout: 2_000 } as const;

/** Deliveries per script call at most: bounds how long one call holds Redis and Lua's unpack(). */
export const MAX_ACCEPT_BATCH = 128;

export interface IntakeInbox {
  readonly keys: IntakeInboxKeys;
  /**
   * Records the delivery and enqueues its item unless the delivery was seen: true when fresh.
   * The deliveries of one event-loop turn share one Redis call (one round trip, one script run),
   * which costs Redis and this process far less than a call each.
   */
  accept(dedupeKey: string, ttlSeconds: number, item: InboxItem): Promise<boolean>;
  /** Items waiting in the inbox plus those being forwarded. */
  depth(): Promise<number>;
}

export interface IntakeInboxOptions {
  redis: RedisClient;
  /** Must equal the intake queue's and forwarder's prefix. */
  prefix?: string;
}

interface PendingAccept {
  dedupeKey: string;
  ttlSeconds: number;
  item: string;
  resolve(fresh: boolean): void;
  reject(error: unknown): void;
}

export function createIntakeInbox(options: IntakeInboxOptions): IntakeInbox {
  const keys = intakeInboxKeys(options.prefix);
  const redis = options.redis as WithAccept;
  if (typeof redis[COMMAND] !== 'function') redis.defineCommand(COMMAND, { lua: ACCEPT_BATCH });
  let pending: PendingAccept[] = [];

  const send = (batch: PendingAccept[]): void => {
    const args: (string | number)[] = batch.map((p) => p.dedupeKey);
    args.push(keys.inbox);
    for (const p of batch) args.push(p.ttlSeconds, p.item);
    redis[COMMAND](batch.length + 1, ...args).then(
      (flags) => batch.forEach((p, i) => p.resolve(flags[i] === 1)),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  };
  // Calls are not serialised behind one another (no group commit): measured, a single call in
  // flight made deliveries queue behind it and lowered throughput at 10 connections.
  const flush = (): void => {
    const turn = pending;
    pending = [];
    for (let i = 0; i < turn.length; i += MAX_ACCEPT_BATCH) send(turn.slice(i, i + MAX_ACCEPT_BATCH));
  };

  return {
    keys,
    accept(dedupeKey, ttlSeconds, item) {
      return new Promise<boolean>((resolve, reject) => {
        // setImmediate runs after the I/O callbacks of this loop turn: every delivery parsed in it
        // joins the batch, and a lone delivery waits for nothing but the end of the turn.
        if (pending.length === 0) setImmediate(flush);
        pending.push({ dedupeKey, ttlSeconds, item: JSON.stringify(item), resolve, reject });
      });
    },
    async depth() {
      const [waiting, processing] = await Promise.all([redis.llen(keys.inbox), redis.llen(keys.processing)]);
      return waiting + processing;
    },
  };
}
