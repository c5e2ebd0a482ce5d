-- finish: record the end of several executions at once (RQ 5.5 steps 3-5 and 7).
-- KEYS: none fixed (every key is built from the templates; ids arrive in ARGV).
-- ARGV[1]: key templates (finish_lib)   ARGV[2]: now (unix float)   ARGV[3]: n entries
-- ARGV[4]: '1' if this batch is being retried after an error (the first call may have run)
-- then 10 fields per entry: kind ('ok' | 'fail' | 'killed' | 'stop'), slot name, job id,
--   execution id, queue, execution started (unix float), execution ended (unix float),
--   ended (RQ text), working seconds, payload (base64 return value, '' for None | base64 exc)
-- Returns: one outcome per entry: 'finished', 'failed', 'stopped', 'requeued', 'scheduled',
--   or 'lease_lost' when the started-registry member is gone (reaped, canceled or deleted while
--   it ran): then the job is left exactly as the other writer left it.
local now_i = math.floor(tonumber(ARGV[2]))
local n = tonumber(ARGV[3])
local out = {}

for e = 0, n - 1 do
  local b = 5 + e * 10
  local kind, worker, id, x, queue = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local st, et, endtxt, wt, payload = ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ARGV[b + 9]
  local wkey = K('worker', worker)
  local wip = K('started', queue)
  local member = id .. ':' .. x
  local jkey = K('job', id)
  local outcome
  -- Removing our started-registry member doubles as the lease check: if it is already gone,
  -- someone else (reaper, cancel, delete) owns the job now.
  if redis.call('ZREM', wip, member) == 0 then
    outcome = 'lease_lost'
    if ARGV[4] == '1' then
      -- Maybe our own earlier call ran and only its reply was lost: its result entry says so.
      local last = redis.call('XREVRANGE', K('results', id), '+', '-', 'COUNT', 1)[1]
      if last then
        local f, mine, typ = last[2], false, nil
        for i = 1, #f, 2 do
          if f[i] == 'execution_id' and f[i + 1] == x then mine = true end
          if f[i] == 'type' then typ = f[i + 1] end
        end
        if mine and typ == '1' then outcome = 'finished' end
        if mine and typ == '2' then outcome = redis.call('HGET', jkey, 'status') or 'failed' end
      end
    end
  elseif kind == 'ok' then
    local f = redis.call('HMGET', jkey, 'result_ttl', 'dependency_ids')
    local dependents_left = release_dependents(id, 'finished', endtxt)
    local rttl = tonumber(f[1]) or 500
    if rttl == 0 then
      -- result_ttl 0: the job is deleted at once and no result is kept.
      redis.call('DEL', jkey, K('dependents', id), K('dependencies', id), K('executions', id))
    else
      redis.call('HSET', jkey, 'status', 'finished', 'ended_at', endtxt, 'last_heartbeat', endtxt)
      local fields = {'type', '1', 'worker_name', worker}
      if payload ~= '' then
        fields[#fields + 1] = 'return_value'
        fields[#fields + 1] = payload
      end
      for _, v in ipairs({'execution_id', x, 'execution_started_at', st,
        'execution_ended_at', et}) do
        fields[#fields + 1] = v
      end
      local rkey = K('results', id)
      redis.call('XADD', rkey, 'MAXLEN', '~', '10', '*', unpack(fields))
      if rttl == -1 then
        redis.call('PERSIST', rkey)
        redis.call('ZADD', K('finished', queue), '+inf', id)
      else
        redis.call('EXPIRE', rkey, rttl)
        redis.call('ZADD', K('finished', queue), now_i + rttl, id)
      end
      expire_job_keys(id, rttl, {dependents = dependents_left, dependencies = f[2] ~= false})
    end
    outcome = 'finished'
  else
    if kind == 'stop' then
      -- A stopped job never retries and never releases its dependents (RQ).
      redis.call('HSET', jkey, 'worker_name', '', 'last_heartbeat', '')
      outcome = fail_job(id, queue, 'stopped', worker, payload, {x, st, ''}, now_i, endtxt, false)
    elseif retries_left(jkey) > 0 then
      redis.call('HSET', jkey, 'ended_at', endtxt, 'last_heartbeat', endtxt)
      outcome = retry_job(id, queue, now_i, endtxt)
    else
      if kind == 'killed' then
        -- RQ saves a killed horse's job from the copy fetched before it ran (trap 12).
        redis.call('HSET', jkey, 'worker_name', '', 'last_heartbeat', '')
      else
        redis.call('HSET', jkey, 'last_heartbeat', endtxt)
      end
      outcome = fail_job(id, queue, 'failed', worker, payload, {x, st, et}, now_i, endtxt, true)
    end
  end
  if outcome ~= 'lease_lost' then
    redis.call('DEL', K('execution', id, x))
    redis.call('ZREM', K('executions', id), x)
  end
  -- The slot is free either way; only touch its hash if it still exists (no partial hashes).
  if redis.call('EXISTS', wkey) == 1 then
    if outcome ~= 'lease_lost' then
      local counter = 'failed_job_count'
      if outcome == 'finished' then counter = 'successful_job_count' end
      redis.call('HINCRBY', wkey, counter, 1)
      redis.call('HINCRBYFLOAT', wkey, 'total_working_time', wt)
    end
    redis.call('HDEL', wkey, 'current_job')
    redis.call('HSET', wkey, 'state', 'idle', 'current_job_working_time', '0')
  end
  out[#out + 1] = outcome
end
return out
