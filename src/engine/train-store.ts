// Release-train runs in Redis, so a run survives the bot: the record (JSON) after every decision,
// an index of every run and a set of the live ones, a lease per live run naming the process
// that drives it, and an inbox per run through which any replica hands the driver an alert or a
// command (with the command's answer coming back under its message id). A process that dies leaves its lease to lapse; the next recovery pass (this
// process restarted, or another replica) takes the run over and asks the core what is outstanding.

import type { RedisClient } from '../redis/connect-redis.js';
import type { AssemblyEntry } from '../core/train/assembly.js';
import { isTrainLive, type TrainInput, type TrainRun } from '../core/train/train-run.js';

/**
 * An input for a live run, kept in the run's inbox until the replica driving the run has decided
 * it: an alert or a command received by any replica. A command carries the wall-clock time after
 * which the driver ignores it (its caller has been told it was not applied by then).
 */
export interface TrainInboxMessage {
  id: string;
  input: TrainInput;
  deadline?: number;
}

/** Who took a command first: the driver (it applies) or the caller (it gave up; never applied). */
export type CommandTaker = 'driver' | 'caller';

export interface TrainStore {
  save(run: TrainRun): Promise<void>;
  load(id: string): Promise<TrainRun | null>;
  /** Newest first. */
  list(limit?: number): Promise<TrainRun[]>;
  liveIds(): Promise<string[]>;
  /** Take the run's lease, or renew it if `owner` holds it; false while another owner holds it. */
  claim(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Give the lease up (only if `owner` holds it). */
  release(id: string, owner: string): Promise<void>;
  /** The members' pipelines a train is being assembled from (change it under `claim('assembly-<train>')`). */
  loadAssembly(train: string): Promise<Record<string, AssemblyEntry>>;
  /** Replace the assembly; it expires with the window (none left: removed). */
  saveAssembly(train: string, entries: Record<string, AssemblyEntry>, ttlMs: number): Promise<void>;
  /** Append to a run's inbox (durable once this resolves). */
  pushInbox(runId: string, message: TrainInboxMessage): Promise<void>;
  /** The oldest messages of a run's inbox, left in it. */
  peekInbox(runId: string, max: number): Promise<TrainInboxMessage[]>;
  /** Remove the oldest `count` messages (the ones the driver has handled). */
  trimInbox(runId: string, count: number): Promise<void>;
  /** First delivery of an alert to a run (per alert, per run); false: already delivered. */
  claimAlert(runId: string, alertKey: string): Promise<boolean>;
  forgetAlert(runId: string, alertKey: string): Promise<void>;
  /** Take a command for `taker` unless the other side took it first; answers who holds it. */
  takeCommand(messageId: string, taker: CommandTaker): Promise<CommandTaker>;
  putReply(messageId: string, reply: { ok: boolean; message: string }): Promise<void>;
  getReply(messageId: string): Promise<{ ok: boolean; message: string } | null>;
}

/** Inboxes of runs that ended with messages left in them, alert dedupe marks and command replies expire. */
const INBOX_TTL_MS = 7 * 24 * 3600_000;
const ALERT_DEDUPE_TTL_S = 24 * 3600;
const COMMAND_TTL_MS = 10 * 60_000;

// KEYS[1] lease; ARGV owner, ttl. Renews our own lease or takes a free one.
export const CLAIM_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

type ScriptedRedis = RedisClient & {
  cbTrainClaim(lease: string, owner: string, ttlMs: number): Promise<number>;
  cbTrainRelease(lease: string, owner: string): Promise<number>;
};

const DEFAULT_LIST_LIMIT = 100;

export function createRedisTrainStore(redis: RedisClient, prefix: string): TrainStore {
  const key = (...parts: string[]): string => [prefix, 'train', ...parts].join(':');
  redis.defineCommand('cbTrainClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  redis.defineCommand('cbTrainRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  const scripted = redis as ScriptedRedis;

  const parse = (text: string | null): TrainRun | null => (text === null ? null : (JSON.parse(text) as TrainRun));

  return {
    async save(run) {
      const transaction = redis.multi().set(key('run', run.id), JSON.stringify(run)).zadd(key('runs'), run.createdAt, run.id);
      if (isTrainLive(run.state)) transaction.sadd(key('live'), run.id);
      else transaction.srem(key('live'), run.id);
      const results = await transaction.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error(`train run ${run.id} was not saved (transaction aborted)`);
    },
    async load(id) {
      return parse(await redis.get(key('run', id)));
    },
    async list(limit = DEFAULT_LIST_LIMIT) {
      const ids = await redis.zrevrange(key('runs'), 0, Math.max(1, limit) - 1);
      if (ids.length === 0) return [];
      const texts = await redis.mget(...ids.map((id) => key('run', id)));
      return texts.map(parse).filter((run): run is TrainRun => run !== null);
    },
    async liveIds() {
      return redis.smembers(key('live'));
    },
    async claim(id, owner, ttlMs) {
      return (await scripted.cbTrainClaim(key('lease', id), owner, Math.max(1, Math.round(ttlMs)))) === 1;
    },
    async release(id, owner) {
      await scripted.cbTrainRelease(key('lease', id), owner);
    },
    async loadAssembly(train) {
      const text = await redis.get(key('assembly', train));
      return text === null ? {} : (JSON.parse(text) as Record<string, AssemblyEntry>);
    },
    async saveAssembly(train, entries, ttlMs) {
      if (Object.keys(entries).length === 0) await redis.del(key('assembly', train));
      else await redis.set(key('assembly', train), JSON.stringify(entries), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async pushInbox(runId, message) {
      const results = await redis.multi().rpush(key('inbox', runId), JSON.stringify(message)).pexpire(key('inbox', runId), INBOX_TTL_MS).exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error(`train run ${runId}: the message was not kept (transaction aborted)`);
    },
    async peekInbox(runId, max) {
      const texts = await redis.lrange(key('inbox', runId), 0, Math.max(1, max) - 1);
      return texts.map((text) => JSON.parse(text) as TrainInboxMessage);
    },
    async trimInbox(runId, count) {
      if (count > 0) await redis.ltrim(key('inbox', runId), count, -1);
    },
    async claimAlert(runId, alertKey) {
      return (await redis.set(key('alert', runId, alertKey), '1', 'EX', ALERT_DEDUPE_TTL_S, 'NX')) === 'OK';
    },
    async forgetAlert(runId, alertKey) {
      await redis.del(key('alert', runId, alertKey));
    },
    async takeCommand(messageId, taker) {
      if ((await redis.set(key('command', messageId), taker, 'PX', COMMAND_TTL_MS, 'NX')) === 'OK') return taker;
      return ((await redis.get(key('command', messageId))) as CommandTaker | null) ?? taker;
    },
    async putReply(messageId, reply) {
      await redis.set(key('reply', messageId), JSON.stringify(reply), 'PX', COMMAND_TTL_MS);
    },
    async getReply(messageId) {
      const text = await redis.get(key('reply', messageId));
      return text === null ? null : (JSON.parse(text) as { ok: boolean; message: string });
    },
  };
}
