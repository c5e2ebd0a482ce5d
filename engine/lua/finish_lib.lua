-- Shared prelude of the worker scripts (claim, finish, reap, schedule_move): prepended to each of
-- them at load time by `scripts.rs`, after key_lib.lua (K), so it has no KEYS or ARGV of its own.
-- Returns: nothing; defines call, expire_job_keys(), release_dependents(), retry_job(),
--          fail_job() for the script that follows.
local call = redis.call

-- The job key and its two dependency sets share one TTL (RQ: job.expire / persist). `known`
-- (optional) says which of the two sets can exist, sparing calls on the hot path.
local function expire_job_keys(id, ttl, known)
  local ks = {K('job', id)}
  if not known or known.dependents then ks[#ks + 1] = K('dependents', id) end
  if not known or known.dependencies then ks[#ks + 1] = K('dependencies', id) end
  for _, k in ipairs(ks) do
    if ttl == -1 then call('PERSIST', k) else call('EXPIRE', k, ttl) end
  end
end

local function push(queue, id, front)
  if front then
    call('LPUSH', K('queue', queue), id)
  else
    call('RPUSH', K('queue', queue), id)
  end
end

-- RQ's enqueue_dependents: a child is queued when every parent it still lists is finished (or
-- failed, for allow_dependency_failures children); missing parents count as met, canceled
-- children are skipped. The dependents set is deleted when every child went, else trimmed.
-- Returns: true if the dependents set still exists afterwards.
local function release_dependents(id, parent_status, nowtxt)
  local dkey = K('dependents', id)
  local children = call('SMEMBERS', dkey)
  if #children == 0 then return false end
  local released = {}
  for _, child in ipairs(children) do
    local ckey = K('job', child)
    local st = call('HGET', ckey, 'status')
    local origin = call('HGET', ckey, 'origin')
    if st and st ~= 'canceled' and origin then
      local allow = call('HGET', ckey, 'allow_dependency_failures') == '1'
      local ready = true
      for _, p in ipairs(call('SMEMBERS', K('dependencies', child))) do
        local ps
        if p == id then ps = parent_status else ps = call('HGET', K('job', p), 'status') end
        if ps and not (ps == 'finished' or (allow and ps == 'failed')) then
          ready = false
          break
        end
      end
      if ready then
        call('ZREM', K('deferred', origin), child)
        call('HSET', ckey, 'status', 'queued', 'enqueued_at', nowtxt)
        push(origin, child, call('HGET', ckey, 'enqueue_at_front') == '1')
        released[#released + 1] = child
      end
    end
  end
  if #released == #children then
    call('DEL', dkey)
    return false
  end
  if #released > 0 then call('SREM', dkey, unpack(released)) end
  return true
end

local function retries_left(jkey)
  return tonumber(call('HGET', jkey, 'retries_left')) or 0
end

-- RQ's Job.retry: interval = retry_intervals[max(len - retries_left, 0)] (before the decrement);
-- 0 → back on the queue now, > 0 → scheduled registry. No result entry, no failed registry.
local function retry_job(id, queue, now_i, nowtxt)
  local jkey = K('job', id)
  local left = retries_left(jkey)
  local intervals = {}
  local raw = call('HGET', jkey, 'retry_intervals')
  if raw then
    local ok, v = pcall(cjson.decode, raw)
    if ok and type(v) == 'table' then intervals = v end
  end
  local interval, n = 0, #intervals
  if n > 0 then
    local idx = math.max(n - left, 0) + 1
    if idx > n then idx = n end
    interval = tonumber(intervals[idx]) or 0
  end
  call('HSET', jkey, 'retries_left', left - 1)
  if interval <= 0 then
    call('HSET', jkey, 'status', 'queued', 'enqueued_at', nowtxt)
    push(queue, id, call('HGET', jkey, 'enqueue_at_front_on_retry') == '1')
    return 'requeued'
  end
  call('HSET', jkey, 'status', 'scheduled')
  call('ZADD', K('scheduled', queue), now_i + math.floor(interval), id)
  call('SADD', K('queues'), K('queue', queue))
  return 'scheduled'
end

-- Terminal failure (status failed or stopped): failed registry, result entry of type 2, TTLs.
-- `exec` = {x, started, ended} or nil (cleanup-generated failures carry no execution).
local function fail_job(id, queue, status, worker, exc, exec, now_i, endtxt, release)
  local jkey = K('job', id)
  local explicit = tonumber(call('HGET', jkey, 'failure_ttl'))
  local fttl = explicit or 31536000
  call('HSET', jkey, 'status', status, 'ended_at', endtxt)
  expire_job_keys(id, fttl)
  local score = now_i + fttl
  if fttl == -1 then score = -1 end
  call('ZADD', K('failed', queue), score, id)
  local fields = {'type', '2', 'worker_name', worker, 'exc_string', exc}
  if exec then
    fields[#fields + 1] = 'execution_id'
    fields[#fields + 1] = exec[1]
    fields[#fields + 1] = 'execution_started_at'
    fields[#fields + 1] = exec[2]
    if exec[3] ~= '' then
      fields[#fields + 1] = 'execution_ended_at'
      fields[#fields + 1] = exec[3]
    end
  end
  local rkey = K('results', id)
  call('XADD', rkey, 'MAXLEN', '~', '10', '*', unpack(fields))
  -- RQ puts a TTL on the results stream only when failure_ttl was given explicitly.
  if explicit then
    if explicit == -1 then call('PERSIST', rkey) else call('EXPIRE', rkey, explicit) end
  end
  if release then release_dependents(id, 'failed', endtxt) end
  return status
end
