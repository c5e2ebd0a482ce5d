-- Shared claim step of claim.lua and finish.lua (a finished slot claims its next job in the same
-- call): prepended after finish_lib.lua by `scripts.rs`, so it has no KEYS of its own.
-- ARGV: none of its own (callers pass values in).
-- Returns: nothing; defines claim_jobs() and busy_fields() for the script that follows.

-- RQ 5.5 steps 1-2 for one id: execution record, job hash `started` + PERSIST. The worker hash
-- is the caller's (it may merge it with the previous job's counters); the started-registry ZADD
-- is batched by claim_jobs. `t` holds the call's times and TTLs, already as strings (numbers
-- passed to redis.call are formatted on every call). Returns HMGET {data, timeout, result_ttl,
-- dependency_ids, group_id}, or nil for an id whose hash is gone (RQ skips those; a hash without `data` is unreadable to every worker
-- and dropped the same way).
local function start_job(id, worker, x, t)
  local jkey = K('job', id)
  local got = call('HMGET', jkey, 'data', 'timeout', 'result_ttl', 'dependency_ids', 'group_id')
  if not got[1] then return nil end
  local ekey = K('execution', id, x)
  call('HSET', ekey, 'id', x, 'created_at', t.now_s, 'last_heartbeat', t.now_s,
    'worker_name', worker)
  call('EXPIRE', ekey, t.lease)
  local xs = K('executions', id)
  call('ZADD', xs, t.xs_score, x)
  call('EXPIRE', xs, t.xs_ttl)
  call('HSET', jkey, 'last_heartbeat', t.nowtxt, 'status', 'started', 'started_at', t.nowtxt,
    'worker_name', worker)
  call('PERSIST', jkey)
  return got
end

-- Claims up to #workers jobs from `queues` (names, priority order) for the slots named
-- `workers`, slot i getting execution id `xs[i]`. `pre` (or nil): pre[qi] = ids of queue qi
-- already taken out of it by a blocking wait (and out of its intermediate list by the caller);
-- each was its queue's head, so it goes before that queue's rest, and one there is no slot for
-- goes back to the head of its queue. Appends 9 values per claimed job to the flat array
-- `out`, in slot order: slot index, id, x, qi, data, timeout, result_ttl, deps, group — the
-- job's result_ttl ('' = default), deps ('1' if it lists dependencies) and chord group_id ('' =
-- none) as read at start, which is
-- what RQ's worker finishes with too (the Job object it loaded); finish.lua gets them back
-- instead of reading the hash again. Returns the number of jobs claimed.
-- RQ's LMOVE into the intermediate list + LREM at start collapse to LPOP here: inside one script
-- no client can observe the id in between, and a crash cannot split the two.
local function claim_jobs(queues, workers, xs, pre, now_s, nowtxt, lease, out)
  local now_i = math.floor(tonumber(now_s))
  local t = {now_s = now_s, nowtxt = nowtxt, lease = tostring(lease),
    xs_score = tostring(now_i + lease + 60), xs_ttl = tostring(lease + 60)}
  local wip_score = tostring(now_i + lease)
  local k, nxt, wip = #workers, 1, {}
  local function take(id, qi)
    local x = xs[nxt]
    local got = start_job(id, workers[nxt], x, t)
    if not got then return end
    local b = #out
    out[b + 1], out[b + 2], out[b + 3], out[b + 4] = nxt, id, x, qi
    out[b + 5], out[b + 6], out[b + 7] = got[1], got[2] or '', got[3] or ''
    out[b + 8] = got[4] and '1' or ''
    out[b + 9] = got[5] or ''
    local w = wip[qi] or {}
    wip[qi] = w
    w[#w + 1] = wip_score
    w[#w + 1] = id .. ':' .. x
    nxt = nxt + 1
  end
  -- Bound the pops so a queue full of ids with missing hashes can't stall the server.
  local budget = k + 1000
  for qi = 1, #queues do
    local qk = K('queue', queues[qi])
    local ids = pre and pre[qi]
    if ids then
      local left = {}
      for i = 1, #ids do
        if nxt <= k then take(ids[i], qi) else left[#left + 1] = ids[i] end
      end
      -- What no slot took goes back in its original order (the last one pushed first).
      for i = #left, 1, -1 do call('LPUSH', qk, left[i]) end
    end
    while nxt <= k and budget > 0 do
      local want = math.min(k - nxt + 1, budget)
      local ids = call('LPOP', qk, want)
      if not ids then break end
      budget = budget - #ids
      for _, id in ipairs(ids) do take(id, qi) end
      if #ids < want then break end
    end
  end
  for qi, w in pairs(wip) do call('ZADD', K('started', queues[qi]), unpack(w)) end
  return nxt - 1
end

-- Worker-hash fields of a slot that has just started job `id` (appended to `f`).
local function busy_fields(f, id, nowtxt)
  local n = #f
  f[n + 1], f[n + 2], f[n + 3], f[n + 4] = 'state', 'busy', 'current_job', id
  f[n + 5], f[n + 6], f[n + 7], f[n + 8] = 'current_job_working_time', '0', 'last_heartbeat', nowtxt
  return f
end
