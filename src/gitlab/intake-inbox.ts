// The inbox in front of the `gitlab-intake` queue: the webhook route deduplicates a delivery and
// enqueues it in ONE Redis round trip (a Lua script: SET NX EX, then RPUSH only when fresh); the
// intake forwarder moves the inbox into BullMQ with a deterministic job id.

import type { Redis } from 'ioredis';
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

// KEYS[1] dedupe key, KEYS[2] inbox; ARGV[1] ttl seconds, ARGV[2] item. 1 = accepted, 0 = duplicate.
const ACCEPT = `
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0`;

const COMMAND = 'canarybotIntakeAccept';

type WithAccept = Redis & { [COMMAND](dedupeKey: string, inbox: string, ttl: number, item: string): Promise<number> };

export interface IntakeInbox {
  readonly keys: IntakeInboxKeys;
  /** Records the delivery and enqueues its item unless the delivery was seen: true when fresh. */
  accept(dedupeKey: string, ttlSeconds: number, item: InboxItem): Promise<boolean>;
  /** Items waiting in the inbox plus those being forwarded. */
  depth(): Promise<number>;
}

export interface IntakeInboxOptions {
  redis: Redis;
  /** Must equal the intake queue's and forwarder's prefix. */
  prefix?: string;
}

export function createIntakeInbox(options: IntakeInboxOptions): IntakeInbox {
  const keys = intakeInboxKeys(options.prefix);
  const redis = options.redis as WithAccept;
  if (typeof redis[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: ACCEPT });
  return {
    keys,
    async accept(dedupeKey, ttlSeconds, item) {
      return (await redis[COMMAND](dedupeKey, keys.inbox, ttlSeconds, JSON.stringify(item))) === 1;
    },
    async depth() {
      const [waiting, processing] = await Promise.all([redis.llen(keys.inbox), redis.llen(keys.processing)]);
      return waiting + processing;
    },
  };
}
