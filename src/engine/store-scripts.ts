// Lua scripts of the release store. Each runs atomically in Redis, so the version check, the record
// write and every index change happen together or not at all.
//
// Record hash fields: v (version), d (release JSON without its definition), f (the definition
// snapshot, JSON: written once, it never changes), s (live slot), o (outbox: effects not yet run,
// JSON), j (ids of the last consumed jobs, JSON), t (scheduled ticks: key → {at, jobId}, JSON).
// Index keys (KEYS): all (zset by createdAt), live (zset by createdAt), slots (hash slot → id),
// by-mr and by-service (zsets by createdAt).

/** KEYS: rec, all, live, slots, byMr, byService. ARGV: id, createdAt, json, slot, mrKeyOrEmpty, isLive, definitionJson.
 *  Returns [1] on success, [0, holderId] when the slot is taken by another live release. */
export const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1, ''} end
if ARGV[6] == '1' then
  local holder = redis.call('HGET', KEYS[4], ARGV[4])
  if holder and holder ~= ARGV[1] then return {0, holder} end
  redis.call('HSET', KEYS[4], ARGV[4], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[3], 'f', ARGV[7], 's', ARGV[4], 'o', '[]', 'j', '[]', 't', '{}')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1]) end
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[1])
return {1, ''}
`;

/** KEYS: rec, live, slots. ARGV: id, expectedVersion, json, isLive, createdAt, outbox, jobs, ticks, definitionJsonOrEmpty.
 *  Returns [1, newVersion], [0, storedVersion] on a version conflict, [-2, holder] when the release
 *  became live again (retry) but its slot is held by another release, [-1] when missing. */
export const UPDATE_SCRIPT = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {-1, ''} end
if v ~= ARGV[2] then return {0, v} end
local slot = redis.call('HGET', KEYS[1], 's')
if ARGV[4] == '1' then
  local holder = redis.call('HGET', KEYS[3], slot)
  if holder and holder ~= ARGV[1] then return {-2, holder} end
  redis.call('HSET', KEYS[3], slot, ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  if redis.call('HGET', KEYS[3], slot) == ARGV[1] then redis.call('HDEL', KEYS[3], slot) end
  redis.call('ZREM', KEYS[2], ARGV[1])
end
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'v', nv, 'd', ARGV[3], 'o', ARGV[6], 'j', ARGV[7], 't', ARGV[8])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'f', ARGV[9]) end
return {1, tostring(nv)}
`;

/** KEYS: rec, lock. ARGV: token, ttlMs. Takes the per-release lock and returns the record in the
 *  same round trip: [1, v, d, o, j, t, f], or [0, pttl] when another worker holds the lock, [-1] when missing. */
export const LOCK_AND_LOAD_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('PTTL', KEYS[2])}
end
local r = redis.call('HMGET', KEYS[1], 'v', 'd', 'o', 'j', 't', 'f')
return {1, r[1], r[2], r[3], r[4], r[5], r[6]}
`;

/** KEYS: rec, lock. ARGV: token, expectedVersion, clearOutbox ('1'|'0').
 *  Empties the outbox when the record is still at the expected version, then releases the lock. */
export const FINISH_SCRIPT = `
if ARGV[3] == '1' and redis.call('HGET', KEYS[1], 'v') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'o', '[]')
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
`;

/** KEYS: lock. ARGV: token, ttlMs. Extends the lock while we still own it. */
export const EXTEND_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: pending hash. ARGV: slot, id. Deletes the slot's pending trigger if it is still `id`. */
export const CLEAR_PENDING_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw).id == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) return 1 end
return 0
`;
