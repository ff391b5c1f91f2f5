// Release-train runs in Redis, so a run survives the bot: the record (JSON) after every decision,
// an index of every run and a set of the live ones, and a lease per live run naming the process
// that drives it. A process that dies leaves its lease to lapse; the next recovery pass (this
// process restarted, or another replica) takes the run over and asks the core what is outstanding.

import type { RedisClient } from '../redis/connect-redis.js';
import type { AssemblyEntry } from '../core/train/assembly.js';
import { isTrainLive, type TrainRun } from '../core/train/train-run.js';

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
}

// KEYS[1] lease; ARGV owner, ttl. Renews our own lease or takes a free one.
const CLAIM_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const RELEASE_SCRIPT = `
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
  };
}
