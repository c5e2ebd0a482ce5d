-- heartbeat: refresh every slot of one pool and every execution it runs, in one call.
-- KEYS[1]: taskmill:pool:<id>   KEYS[2]: taskmill:pools
-- KEYS[3 .. 2+n]: rq:worker:<slot> for each slot
-- KEYS[3+n ..]: 4 per running job: rq:wip:<q>, rq:execution:<id>:<x>, rq:executions:<id>,
--               rq:job:<id>
-- ARGV[1]: now (RQ text)   ARGV[2]: now (unix float)   ARGV[3]: lease seconds
-- ARGV[4]: worker/pool key TTL   ARGV[5]: n   ARGV[6]: m (running jobs)   ARGV[7]: pool id
-- ARGV[8 .. 7+n]: current_job_working_time per slot ('' = idle)
-- ARGV[8+n ..]: 2 per running job: started-registry member `<id>:<x>`, execution id
-- Returns: {slot indexes (1-based) whose worker hash is gone or partial, job indexes whose lease
--          is lost}
local nowtxt, now_s = ARGV[1], ARGV[2]
local now_i = math.floor(tonumber(now_s))
local lease, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local n, m = tonumber(ARGV[5]), tonumber(ARGV[6])

redis.call('HSET', KEYS[1], 'last_heartbeat', nowtxt)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('SADD', KEYS[2], ARGV[7])

local missing, lost = {}, {}
for i = 1, n do
  local wkey = KEYS[2 + i]
  -- `birth` missing = the hash expired (maybe re-created partially by a later HSET): re-birth.
  if redis.call('HEXISTS', wkey, 'birth') == 1 then
    redis.call('HSET', wkey, 'last_heartbeat', nowtxt)
    if ARGV[7 + i] ~= '' then
      redis.call('HSET', wkey, 'current_job_working_time', ARGV[7 + i])
    end
    redis.call('EXPIRE', wkey, ttl)
  else
    missing[#missing + 1] = i
  end
end

for j = 1, m do
  local kb, ab = 3 + n + (j - 1) * 4, 8 + n + (j - 1) * 2
  local wip, ekey, xs, jkey = KEYS[kb], KEYS[kb + 1], KEYS[kb + 2], KEYS[kb + 3]
  local member, x = ARGV[ab], ARGV[ab + 1]
  if redis.call('ZSCORE', wip, member) then
    redis.call('ZADD', wip, 'XX', now_i + lease, member)
    if redis.call('EXISTS', ekey) == 1 then
      redis.call('HSET', ekey, 'last_heartbeat', now_s)
      redis.call('EXPIRE', ekey, lease)
    end
    redis.call('ZADD', xs, now_i + lease + 60, x)
    redis.call('EXPIRE', xs, lease + 60)
    if redis.call('EXISTS', jkey) == 1 then
      redis.call('HSET', jkey, 'last_heartbeat', nowtxt)
    end
  else
    lost[#lost + 1] = j
  end
end
return {missing, lost}
