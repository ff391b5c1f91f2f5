import type { RedisClient } from '../redis/connect-redis.js';

export interface RateLimit {
  /** Burst size. */
  capacity: number;
  /** Tokens added per second. */
  perSecond: number;
}

/**
 * A token bucket kept in Redis, so every replica draws from the same bucket for one chat webhook.
 * The script refills by elapsed time, takes one token when there is one, and otherwise says how
 * long until the next token (ms). Time is Redis' own (TIME), not each replica's clock: a replica
 * whose clock runs ahead would otherwise refill the bucket for everyone.
 */
export const TAKE = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(capacity, tokens + (now - at) * per_ms) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 60000)
return wait
`;

export interface TokenBucket {
  /** 0 when a token was taken; otherwise the milliseconds to wait before asking again. */
  take(key: string): Promise<number>;
}

export function createRedisTokenBucket(redis: RedisClient, limit: RateLimit): TokenBucket {
  const perMs = limit.perSecond / 1000;
  return {
    async take(key) {
      const wait = await redis.eval(TAKE, 1, key, limit.capacity, perMs);
      return Number(wait);
    },
  };
}
