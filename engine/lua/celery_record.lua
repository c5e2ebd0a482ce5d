-- Records one Celery task event into Taskmill's task records, once: several consoles receive
-- the same event, the first one applies it, the others find `ev:<type>` already equal to its
-- timestamp. The state moves by Celery's rule (a ready state is never replaced by a non-ready
-- one; otherwise the newer event wins); per-state and per-name zsets share the first-seen score.
-- KEYS[1] the task hash       KEYS[2] all tasks (zset, first seen)
-- KEYS[3] the task name's zset KEYS[4] names (zset, count)  KEYS[5] the parent's children set
-- KEYS[6..13] the state zsets, in the order of `tasks::STATES`
-- ARGV[1] id  ARGV[2] event type  ARGV[3] state ('' = fields only)  ARGV[4] event timestamp
-- ARGV[5] cap (tasks kept)  ARGV[6] ttl (s)  ARGV[7] name ('' = unknown)
-- ARGV[8] '1' when the task has a parent  ARGV[9] the state's index (1-8)  ARGV[10] now
-- ARGV[11..] field, value pairs
-- Returns: 1 applied, 0 duplicate
local id, typ, state, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local h = KEYS[1]
local evf = 'ev:' .. typ
if redis.call('HGET', h, evf) == ts then
  return 0
end
redis.call('HSET', h, evf, ts)
for i = 11, #ARGV, 2 do
  redis.call('HSET', h, ARGV[i], ARGV[i + 1])
end
local seen = redis.call('ZSCORE', KEYS[2], id)
if not seen then
  seen = ARGV[10]
  redis.call('ZADD', KEYS[2], seen, id)
  redis.call('HSET', h, 'seen_at', seen)
end
if ARGV[7] ~= '' and redis.call('ZADD', KEYS[3], 'NX', seen, id) == 1 then
  redis.call('ZINCRBY', KEYS[4], 1, ARGV[7])
end
if state ~= '' then
  local READY = { SUCCESS = true, FAILURE = true, REVOKED = true }
  local cur = redis.call('HGET', h, 'state')
  local cur_ts = tonumber(redis.call('HGET', h, 'state_ts') or '0') or 0
  local apply
  if not cur then
    apply = true
  elseif READY[cur] and not READY[state] then
    apply = false
  elseif READY[state] and not READY[cur] then
    apply = true
  else
    apply = (tonumber(ts) or 0) >= cur_ts
  end
  if apply then
    local old = redis.call('HGET', h, 'state_idx')
    if old and old ~= ARGV[9] then
      redis.call('ZREM', KEYS[5 + tonumber(old)], id)
    end
    redis.call('ZADD', KEYS[5 + tonumber(ARGV[9])], seen, id)
    redis.call('HSET', h, 'state', state, 'state_ts', ts, 'state_idx', ARGV[9])
  end
end
if ARGV[8] == '1' then
  redis.call('SADD', KEYS[5], id)
  redis.call('EXPIRE', KEYS[5], ttl)
end
redis.call('EXPIRE', h, ttl)
local n = redis.call('ZCARD', KEYS[2])
if n > cap then
  redis.call('ZPOPMIN', KEYS[2], n - cap)
  local min = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
  if min then
    for i = 6, 13 do
      redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. min)
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. min)
  end
end
return 1
