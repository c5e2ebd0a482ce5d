-- Keeps Celery's failure-group index (engine::celery::groups) in step with one task's state,
-- after the console recorded a `task-failed`, `task-succeeded` or `task-revoked` event. Same
-- layout as RQ's index (groups_lib.lua): a group's size in KEYS[1], its members in its zset
-- (scored by failure time), queue / task-name counts in its meta hash.
-- KEYS[1] fingerprint -> size (zset)  KEYS[2] indexed id -> `fp\tname\tqueue` (hash)
-- KEYS[3] indexed ids by failure time (zset)  KEYS[4] the task's record hash
-- ARGV[1] id  ARGV[2] fingerprint ('' = not a failure event)  ARGV[3] task name  ARGV[4] queue
-- ARGV[5] failure time  ARGV[6] exception type  ARGV[7] example  ARGV[8] oldest failure time kept
-- ARGV[9] most failures kept  ARGV[10] group zset key prefix  ARGV[11] meta hash key prefix
-- Returns: 1 when the task is in a group afterwards, else 0.
local groups, tasks, all = KEYS[1], KEYS[2], KEYS[3]
local gp, mp = ARGV[10], ARGV[11]
local function bump(meta, field, by)
  if redis.call('HINCRBY', meta, field, by) <= 0 then
    redis.call('HDEL', meta, field)
  end
end
local function unindex(id)
  local v = redis.call('HGET', tasks, id)
  if not v then return end
  redis.call('HDEL', tasks, id)
  redis.call('ZREM', all, id)
  local fp, name, queue = string.match(v, '^([^\t]*)\t([^\t]*)\t(.*)$')
  if not fp then return end
  redis.call('ZREM', gp .. fp, id)
  local meta = mp .. fp
  if tonumber(redis.call('ZINCRBY', groups, -1, fp)) <= 0 then
    redis.call('ZREM', groups, fp)
    redis.call('DEL', meta, gp .. fp)
    return
  end
  bump(meta, 'q\n' .. queue, -1)
  bump(meta, 'f\n' .. name, -1)
end
local id, fp = ARGV[1], ARGV[2]
-- Old failures (their task records expired) and the oldest past the cap leave the index.
local old = redis.call('ZRANGEBYSCORE', all, '-inf', '(' .. ARGV[8], 'LIMIT', 0, 100)
for _, o in ipairs(old) do unindex(o) end
local over = redis.call('ZCARD', all) - tonumber(ARGV[9])
if over > 0 then
  for _, o in ipairs(redis.call('ZRANGE', all, 0, math.min(over, 100) - 1)) do unindex(o) end
end
local state = redis.call('HGET', KEYS[4], 'state')
if state ~= 'FAILURE' or fp == '' then
  if state ~= 'FAILURE' then unindex(id) end
  return redis.call('HEXISTS', tasks, id)
end
local value = fp .. '\t' .. ARGV[3] .. '\t' .. ARGV[4]
if redis.call('HGET', tasks, id) == value then return 1 end
unindex(id)
redis.call('HSET', tasks, id, value)
redis.call('ZADD', all, ARGV[5], id)
redis.call('ZADD', gp .. fp, ARGV[5], id)
redis.call('ZINCRBY', groups, 1, fp)
local meta = mp .. fp
redis.call('HSETNX', meta, 'exc_type', ARGV[6])
redis.call('HSETNX', meta, 'example', ARGV[7])
redis.call('HINCRBY', meta, 'q\n' .. ARGV[4], 1)
redis.call('HINCRBY', meta, 'f\n' .. ARGV[3], 1)
return 1
