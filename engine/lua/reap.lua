-- reap: recover one queue's abandoned work (RQ 7.2 and 3.4, with Taskmill's short lease).
-- KEYS[1]: taskmill:reaper-lock:<q>   KEYS[2]: rq:wip:<q>   KEYS[3]: rq:queue:<q>:intermediate
-- KEYS[4]: rq:queue:<q>
-- ARGV[1]: now (unix float)   ARGV[2]: now (RQ text)   ARGV[3]: lock token
-- ARGV[4]: lock TTL ms   ARGV[5]: queue name   ARGV[6]: base64(zlib(abandoned-job message))
-- ARGV[7]: intermediate grace seconds   ARGV[8]: max entries per call
-- ARGV[9..]: this pool's own running `<id>:<x>` members
-- Returns: {'locked'} if another process holds the lock, else
--          {'ok', failed, retried, dropped, intermediate_requeued}
if not redis.call('SET', KEYS[1], ARGV[3], 'NX', 'PX', ARGV[4]) then return {'locked'} end
local now = tonumber(ARGV[1])
local now_i, nowtxt, queue = math.floor(now), ARGV[2], ARGV[5]
local grace, limit = tonumber(ARGV[7]), tonumber(ARGV[8])
local failed, retried, dropped, requeued = 0, 0, 0, 0

-- Only entries whose score is strictly in the past: scores are floor(now) + lease, so an
-- inclusive bound would shorten a lease by up to a second. A live worker (Taskmill or Python RQ)
-- keeps its entries in the future with heartbeats, whatever lease it uses.
-- The calling pool's own running jobs are alive by definition (their leases only went stale
-- because heartbeats could not reach Redis, e.g. during an outage): refresh them, never reap them.
local own = {}
for i = 9, #ARGV do own[ARGV[i]] = true end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], 0, '(' .. now_i, 'LIMIT', 0, limit)
for _, member in ipairs(expired) do
  if own[member] then
    redis.call('ZADD', KEYS[2], 'XX', now_i + grace, member)
  else
    local c = string.find(member, ':', 1, true)
    local id, x = member, nil
    if c then id, x = string.sub(member, 1, c - 1), string.sub(member, c + 1) end
    local jkey = K('job', id)
    redis.call('ZREM', KEYS[2], member)
    if x then
      redis.call('DEL', K('execution', id, x))
      redis.call('ZREM', K('executions', id), x)
    end
    if redis.call('EXISTS', jkey) == 0 then
      dropped = dropped + 1
    elseif retries_left(jkey) > 0 then
      retry_job(id, queue, now_i, nowtxt)
      retried = retried + 1
    else
      fail_job(id, queue, 'failed', '', ARGV[6], nil, now_i, nowtxt, true)
      failed = failed + 1
    end
  end
end

-- Intermediate ids that never started: back to the head of the queue once they have sat there
-- longer than the grace period (first sighting recorded like RQ's maintenance does).
local stuck = redis.call('LRANGE', KEYS[3], 0, limit - 1)
if #stuck > 0 then
  local running = {}
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, 9999)) do
    local c = string.find(member, ':', 1, true)
    running[c and string.sub(member, 1, c - 1) or member] = true
  end
  for _, id in ipairs(stuck) do
    if not running[id] then
      local fkey = K('first_seen', queue, id)
      local seen = tonumber(redis.call('GET', fkey))
      if not seen then
        redis.call('SET', fkey, ARGV[1], 'NX', 'EX', 86400)
      elseif now - seen > grace then
        redis.call('LREM', KEYS[3], 1, id)
        redis.call('DEL', fkey)
        if redis.call('EXISTS', K('job', id)) == 1 then
          redis.call('LPUSH', KEYS[4], id)
          requeued = requeued + 1
        end
      end
    end
  end
end
return {'ok', failed, retried, dropped, requeued}
