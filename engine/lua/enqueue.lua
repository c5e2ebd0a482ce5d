-- Creates one job in RQ 2.12's layout: queued, deferred (an existing parent is not finished) or
-- scheduled. The parent check and the dependents registration happen in this one script, so a
-- parent finishing concurrently either is seen as finished here or finds the child in its
-- dependents set afterwards: the child can never be stranded.
-- KEYS[1] rq:queues            KEYS[2] the job hash        KEYS[3] the queue list
-- KEYS[4] deferred registry    KEYS[5] scheduled registry  KEYS[6] the job's dependencies set
-- KEYS[7] the job's dependents set
-- KEYS[7+i] parent i's hash, KEYS[7+n+i] parent i's dependents set (i = 1..n)
-- ARGV[1] job id   ARGV[2] n (parents)   ARGV[3] "1" = push at the front   ARGV[4] ttl or ""
-- ARGV[5] now, integer unix seconds (deferred score)   ARGV[6] schedule score or ""
-- ARGV[7 .. 6+n] parent ids, then field/value pairs of the hash in RQ's write order; the value
-- of `status` is filled in here and `enqueued_at` is dropped unless the job ends up queued.
-- Returns: the status written ("queued", "deferred" or "scheduled"), or "duplicate" when the
-- job hash already exists (nothing written).
local id = ARGV[1]
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 'duplicate'
end
local n = tonumber(ARGV[2])
local status = 'queued'
if ARGV[6] ~= '' then
  status = 'scheduled'
else
  for i = 1, n do
    local parent = KEYS[7 + i]
    -- RQ ignores parents whose hash is gone; any other state than finished defers the child.
    if redis.call('EXISTS', parent) == 1 and redis.call('HGET', parent, 'status') ~= 'finished' then
      status = 'deferred'
      break
    end
  end
end

local args = {'status', status}
local i = 7 + n
while i < #ARGV do
  local f, v = ARGV[i], ARGV[i + 1]
  if f == 'status' then
    v = status
  end
  if f ~= 'enqueued_at' or status == 'queued' then
    args[#args + 1] = f
    args[#args + 1] = v
  end
  i = i + 2
end
redis.call('HSET', KEYS[2], unpack(args))
redis.call('SADD', KEYS[1], KEYS[3])

if status == 'deferred' then
  redis.call('ZADD', KEYS[4], ARGV[5], id)
  for p = 1, n do
    redis.call('SADD', KEYS[7 + n + p], id)
    redis.call('SADD', KEYS[6], ARGV[6 + p])
  end
elseif status == 'scheduled' then
  redis.call('ZADD', KEYS[5], ARGV[6], id)
end
if ARGV[4] ~= '' then
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[7], ARGV[4])
  redis.call('EXPIRE', KEYS[6], ARGV[4])
end
if status == 'queued' then
  if ARGV[3] == '1' then
    redis.call('LPUSH', KEYS[3], id)
  else
    redis.call('RPUSH', KEYS[3], id)
  end
end
return status
