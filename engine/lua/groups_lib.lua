-- Prelude of the failure-group index scripts (after key_lib.lua; no KEYS or ARGV of its own).
-- An indexed failure is the hash field `<queue>\n<id>` of K('fg_jobs') with the value
-- `<registry score>\t<ended_at>\t<fingerprint>\t<func>` (score and `ended_at` together tell one
-- failure from the next: RQ's scores have whole seconds, `ended_at` microseconds), a member of its group's zset K('fg_group', fp)
-- (scored by failure time), one unit of its group's size in K('fg_groups') and of the queue and
-- function counts in K('fg_meta', fp). `unindex` and `index` keep all four in step.
-- Returns: nothing; defines split_value(), live(), unindex(), index().
local function split_value(v)
  local score, ended, fp, func = string.match(v, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$')
  return score, ended, fp, func
end
-- The live signature of a failure: its registry score (false if not in the registry) and the
-- job's `ended_at` ('' if none).
local function live(queue, id)
  local score = redis.call('ZSCORE', K('failed', queue), id)
  local ok, ended = pcall(redis.call, 'HGET', K('job', id), 'ended_at')
  if not ok or not ended then ended = '' end
  return score and tostring(score), ended
end
local function bump(meta, field, by)
  if redis.call('HINCRBY', meta, field, by) <= 0 then
    redis.call('HDEL', meta, field)
  end
end
local function unindex(member, value)
  local _, _, fp, func = split_value(value)
  redis.call('HDEL', K('fg_jobs'), member)
  if not fp then return end
  local queue = string.match(member, '^(.*)\n')
  redis.call('ZREM', K('fg_group', fp), member)
  local meta = K('fg_meta', fp)
  if tonumber(redis.call('ZINCRBY', K('fg_groups'), -1, fp)) <= 0 then
    redis.call('ZREM', K('fg_groups'), fp)
    redis.call('DEL', meta, K('fg_group', fp))
    return
  end
  if queue then bump(meta, 'q\n' .. queue, -1) end
  bump(meta, 'f\n' .. func, -1)
end
local function index(member, queue, value, at, exc_type, example)
  local _, _, fp, func = split_value(value)
  redis.call('HSET', K('fg_jobs'), member, value)
  redis.call('ZADD', K('fg_group', fp), at, member)
  redis.call('ZINCRBY', K('fg_groups'), 1, fp)
  local meta = K('fg_meta', fp)
  redis.call('HSETNX', meta, 'exc_type', exc_type)
  redis.call('HSETNX', meta, 'example', example)
  redis.call('HINCRBY', meta, 'q\n' .. queue, 1)
  redis.call('HINCRBY', meta, 'f\n' .. func, 1)
end
