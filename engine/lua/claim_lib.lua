-- Shared claim step of claim.lua and finish.lua (a finished slot claims its next job in the same
-- call): prepended after finish_lib.lua by `worker/scripts.rs`, so it has no KEYS of its own.
-- ARGV: none of its own (callers pass values in).
-- Returns: nothing; defines claim_jobs() and busy_fields() for the script that follows.

-- RQ 5.5 steps 1-2 for one id: execution record, job hash `started` + PERSIST. The worker hash
-- is the caller's (it may merge it with the previous job's counters); the started-registry ZADD
-- is batched by claim_jobs. Returns HMGET {data, timeout}, or nil for an id whose hash is gone
-- (RQ skips those; a hash without `data` is unreadable to every worker and dropped the same way).
local function start_job(id, worker, x, now_s, now_i, nowtxt, lease)
  local jkey = K('job', id)
  local got = redis.call('HMGET', jkey, 'data', 'timeout')
  if not got[1] then return nil end
  local ekey = K('execution', id, x)
  redis.call('HSET', ekey, 'id', x, 'created_at', now_s, 'last_heartbeat', now_s,
    'worker_name', worker)
  redis.call('EXPIRE', ekey, lease)
  local xs = K('executions', id)
  redis.call('ZADD', xs, now_i + lease + 60, x)
  redis.call('EXPIRE', xs, lease + 60)
  redis.call('HSET', jkey, 'last_heartbeat', nowtxt, 'status', 'started', 'started_at', nowtxt,
    'worker_name', worker)
  redis.call('PERSIST', jkey)
  return got
end

-- Claims up to #slots jobs from `queues` (names, priority order) for `slots` = {{worker, x}, ...}.
-- `first` = {id, qi} is an id popped outside (blocking wait), started before any pop.
-- Returns {{slot index, id, x, qi, data, timeout}, ...} in slot order.
-- RQ's LMOVE into the intermediate list + LREM at start collapse to LPOP here: inside one script
-- no client can observe the id in between, and a crash cannot split the two.
local function claim_jobs(queues, slots, first, now_s, nowtxt, lease)
  local now_i = math.floor(tonumber(now_s))
  local k, nxt, out, wip = #slots, 1, {}, {}
  local function take(id, qi)
    local s = slots[nxt]
    local got = start_job(id, s[1], s[2], now_s, now_i, nowtxt, lease)
    if not got then return end
    out[#out + 1] = {nxt, id, s[2], qi, got[1], got[2] or ''}
    local w = wip[qi] or {}
    wip[qi] = w
    w[#w + 1] = now_i + lease
    w[#w + 1] = id .. ':' .. s[2]
    nxt = nxt + 1
  end
  if first and k > 0 then take(first[1], first[2]) end
  -- Bound the pops so a queue full of ids with missing hashes can't stall the server.
  local budget = k + 1000
  for qi = 1, #queues do
    local qk = K('queue', queues[qi])
    while nxt <= k and budget > 0 do
      local want = math.min(k - nxt + 1, budget)
      local ids = redis.call('LPOP', qk, want)
      if not ids then break end
      budget = budget - #ids
      for _, id in ipairs(ids) do take(id, qi) end
      if #ids < want then break end
    end
  end
  for qi, w in pairs(wip) do redis.call('ZADD', K('started', queues[qi]), unpack(w)) end
  return out
end

-- Worker-hash fields of a slot that has just started job `id` (appended to `f`).
local function busy_fields(f, id, nowtxt)
  for _, v in ipairs({'state', 'busy', 'current_job', id, 'current_job_working_time', '0',
    'last_heartbeat', nowtxt}) do
    f[#f + 1] = v
  end
  return f
end
