-- finish: record the end of several executions at once (RQ 5.5 steps 3-5 and 7), and let each
-- freed slot that asks for it claim its next job in the same call (claim_lib). A job of a chord
-- (its `group_id`) that ends here is recorded in the chord in this same step (chord_lib).
-- KEYS[1]: rq:suspended (only read when a slot asks for a next job)
-- ARGV[1]: now (unix float)   ARGV[2]: n entries
-- ARGV[3]: '1' if this batch is being retried after an error (the first call may have run)
-- ARGV[4]: now (RQ text)   ARGV[5]: lease seconds   ARGV[6]: nq
-- ARGV[7 .. 6+nq]: queue names to claim from, in priority order
-- ARGV[7+nq]: history: '0' = do not record, else the most functions per queue kept by name in
--   the /metrics totals (stats_lib)
-- then 18 fields per entry: kind ('ok' | 'fail' | 'killed' | 'stop'), slot name, job id,
--   execution id, queue, execution started (unix float), execution ended (unix float),
--   ended (RQ text), the slot's total_working_time including this job,
--   payload (base64 return value, '' for None | base64 exc),
--   execution id for the slot's next job ('' = the slot does not claim),
--   the job's result_ttl and deps ('1' = it lists dependencies) as read at claim (claim_lib),
--   the slot's new successful_job_count (kind 'ok') or failed_job_count (other kinds; every
--   failure outcome, retries included, counts as failed like RQ) — the pool keeps each slot's
--   counters: it is their only writer, and absolute values make a retried batch idempotent,
--   the job's function name, its run time in µs and that run time's histogram bucket (history),
--   the job's chord group_id as read at claim ('' = none; claim_lib)
-- Returns: {outcomes, claimed}. outcomes: one per entry: 'finished', 'failed', 'stopped',
--   'requeued', 'scheduled', or 'lease_lost' when the started-registry member is gone (reaped,
--   canceled or deleted while it ran): then the job is left exactly as the other writer left it.
--   claimed: {} (no slot asked), {'suspended'}, or {'ok', entry, id, x, qi, data, timeout,
--   result_ttl, deps, ...} (see claim_lib)
--   with entry the 1-based entry index whose slot took the job.
local now_i = math.floor(tonumber(ARGV[1]))
local n, retrying = tonumber(ARGV[2]), ARGV[3] == '1'
local nowtxt, lease, nq = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local stats_cap = tonumber(ARGV[7 + nq]) or 0
local base = 8 + nq
local function arg(e, f) return ARGV[base + e * 18 + f] end

-- Lease check for the whole batch: which started-registry members are still ours. One ZMSCORE
-- and one ZREM per queue instead of one ZREM per entry.
local held, byq = {}, {}
for e = 0, n - 1 do
  local q = arg(e, 4)
  local g = byq[q]
  if not g then
    g = {{}, {}}
    byq[q] = g
  end
  g[1][#g[1] + 1] = arg(e, 2) .. ':' .. arg(e, 3)
  g[2][#g[2] + 1] = e
end
for q, g in pairs(byq) do
  local wip = K('started', q)
  if #g[1] == 1 then
    -- One entry: ZREM's own reply is the check (a batch of one is common at low load).
    if call('ZREM', wip, g[1][1]) == 1 then held[g[2][1]] = true end
  else
    local scores = call('ZMSCORE', wip, unpack(g[1]))
    local gone = {}
    for i, s in ipairs(g[1]) do
      if scores[i] then
        held[g[2][i]] = true
        gone[#gone + 1] = s
      end
    end
    if #gone > 0 then call('ZREM', wip, unpack(gone)) end
  end
end

local outcomes, finished, execs = {}, {}, {}
local function expire(key, ttl)
  if ttl.n == -1 then call('PERSIST', key) else call('EXPIRE', key, ttl.s) end
end
-- result_ttl text → {n = number, s = TTL text, score = finished-registry score text}, once per
-- distinct value in the batch (formatting numbers inside redis.call costs on every call).
local ttls = {}
local function ttl_of(text)
  local t = ttls[text]
  if t then return t end
  local n = tonumber(text) or 500
  t = {n = n, s = tostring(n), score = '+inf'}
  if n ~= -1 then t.score = tostring(now_i + n) end
  ttls[text] = t
  return t
end
for e = 0, n - 1 do
  local kind, worker, id, x, queue = arg(e, 0), arg(e, 1), arg(e, 2), arg(e, 3), arg(e, 4)
  local st, et, endtxt, payload = arg(e, 5), arg(e, 6), arg(e, 7), arg(e, 9)
  local jkey = K('job', id)
  local outcome
  -- Chords (chord_lib): read before the job hash may be deleted (result_ttl 0).
  local gid = held[e] and arg(e, 17)
  if not held[e] then
    -- Someone else (reaper, cancel, delete) owns the job now.
    outcome = 'lease_lost'
    if retrying then
      -- Maybe our own earlier call ran and only its reply was lost: its result entry says so.
      local last = call('XREVRANGE', K('results', id), '+', '-', 'COUNT', 1)[1]
      if last then
        local f, mine, typ = last[2], false, nil
        for i = 1, #f, 2 do
          if f[i] == 'execution_id' and f[i + 1] == x then mine = true end
          if f[i] == 'type' then typ = f[i + 1] end
        end
        if mine and typ == '1' then outcome = 'finished' end
        if mine and typ == '2' then outcome = call('HGET', jkey, 'status') or 'failed' end
      end
    end
  elseif kind == 'ok' then
    local dependents_left = release_dependents(id, 'finished', endtxt)
    local rttl = arg(e, 11)
    if rttl == '' then rttl = '500' end
    local ttl = ttl_of(rttl)
    if ttl.n == 0 then
      -- result_ttl 0: the job is deleted at once and no result is kept.
      call('DEL', jkey, K('dependents', id), K('dependencies', id), K('executions', id))
    else
      call('HSET', jkey, 'status', 'finished', 'ended_at', endtxt, 'last_heartbeat', endtxt)
      local rkey = K('results', id)
      if payload ~= '' then
        call('XADD', rkey, 'MAXLEN', '~', '10', '*', 'type', '1', 'worker_name', worker,
          'return_value', payload, 'execution_id', x, 'execution_started_at', st,
          'execution_ended_at', et)
      else
        call('XADD', rkey, 'MAXLEN', '~', '10', '*', 'type', '1', 'worker_name', worker,
          'execution_id', x, 'execution_started_at', st, 'execution_ended_at', et)
      end
      local g = finished[queue] or {}
      finished[queue] = g
      g[#g + 1] = ttl.score
      g[#g + 1] = id
      -- The job key and the dependency sets that can exist share the result TTL (RQ).
      expire(rkey, ttl)
      expire(jkey, ttl)
      if dependents_left then expire(K('dependents', id), ttl) end
      if arg(e, 12) ~= '' then expire(K('dependencies', id), ttl) end
    end
    outcome = 'finished'
  else
    if kind == 'stop' then
      -- A stopped job never retries and never releases its dependents (RQ).
      call('HSET', jkey, 'worker_name', '', 'last_heartbeat', '')
      outcome = fail_job(id, queue, 'stopped', worker, payload, {x, st, ''}, now_i, endtxt, false)
    elseif retries_left(jkey) > 0 then
      call('HSET', jkey, 'ended_at', endtxt, 'last_heartbeat', endtxt)
      outcome = retry_job(id, queue, now_i, endtxt)
    else
      if kind == 'killed' then
        -- RQ saves a killed horse's job from the copy fetched before it ran (trap 12).
        call('HSET', jkey, 'worker_name', '', 'last_heartbeat', '')
      else
        call('HSET', jkey, 'last_heartbeat', endtxt)
      end
      outcome = fail_job(id, queue, 'failed', worker, payload, {x, st, et}, now_i, endtxt, true)
    end
  end
  if held[e] then
    execs[#execs + 1] = K('execution', id, x)
    call('ZREM', K('executions', id), x)
  end
  if gid and gid ~= '' and (outcome == 'finished' or outcome == 'failed' or outcome == 'stopped') then
    chord_member_ended(gid, id, outcome, endtxt)
  end
  outcomes[#outcomes + 1] = outcome
end
for q, g in pairs(finished) do call('ZADD', K('finished', q), unpack(g)) end
-- History: only executions this call ended (a retried batch's entries that the first call
-- wrote are not held, so nothing is counted twice). Every outcome but 'finished' counts as
-- failed, like the worker hash's failed_job_count.
if stats_cap > 0 then
  local jobs = {}
  for e = 0, n - 1 do
    if held[e] then
      jobs[#jobs + 1] = {arg(e, 4), arg(e, 14), outcomes[e + 1] == 'finished',
        tonumber(arg(e, 15)) or 0, tonumber(arg(e, 16)) or 0}
    end
  end
  if #jobs > 0 then stats_jobs(now_i, jobs, stats_cap) end
end
if #execs > 0 then call('DEL', unpack(execs)) end

-- Next jobs for the slots that asked, unless the queues are suspended.
local claimed, next_of = {}, {}
local workers, xs, entry_of = {}, {}, {}
for e = 0, n - 1 do
  if arg(e, 10) ~= '' then
    local i = #workers + 1
    workers[i], xs[i], entry_of[i] = arg(e, 1), arg(e, 10), e
  end
end
if #workers > 0 then
  if call('EXISTS', KEYS[1]) == 1 then
    claimed = {'suspended'}
  else
    local queues = {}
    for i = 1, nq do queues[i] = ARGV[6 + i] end
    claimed = {'ok'}
    for j = 0, claim_jobs(queues, workers, xs, nil, ARGV[1], nowtxt, lease, claimed) - 1 do
      -- Slot positions become 1-based batch entries for the caller.
      local e = entry_of[claimed[2 + 9 * j]]
      next_of[e] = claimed[3 + 9 * j]
      claimed[2 + 9 * j] = e + 1
    end
  end
end

-- Each slot's worker hash in one write: RQ's success/failure counters and total working time
-- (absolute values from the pool), then busy with the next job or idle. Only an existing hash is
-- written, so an expired one is never re-created partially (the heartbeat re-births it); one
-- EXISTS covers the batch when every hash is there.
local wkeys = {}
for e = 0, n - 1 do wkeys[e + 1] = K('worker', arg(e, 1)) end
local all = call('EXISTS', unpack(wkeys)) == n
for e = 0, n - 1 do
  local wkey, id = wkeys[e + 1], arg(e, 2)
  if all or call('EXISTS', wkey) == 1 then
    local nid = next_of[e]
    if held[e] then
      local counter = 'failed_job_count'
      if outcomes[e + 1] == 'finished' then counter = 'successful_job_count' end
      if nid then
        -- The common case, spelled out (no field table per job).
        call('HSET', wkey, counter, arg(e, 13), 'total_working_time', arg(e, 8),
          'state', 'busy', 'current_job', nid, 'current_job_working_time', '0',
          'last_heartbeat', nowtxt)
      else
        call('HDEL', wkey, 'current_job')
        call('HSET', wkey, counter, arg(e, 13), 'total_working_time', arg(e, 8),
          'state', 'idle', 'current_job_working_time', '0')
      end
    elseif nid then
      call('HSET', wkey, unpack(busy_fields({}, nid, nowtxt)))
    elseif not retrying or call('HGET', wkey, 'current_job') == id then
      -- (A retried entry whose member is gone may have been written by our first call, which
      -- may have given the slot its next job: only a hash still naming this job goes idle.)
      call('HDEL', wkey, 'current_job')
      call('HSET', wkey, 'state', 'idle', 'current_job_working_time', '0')
    end
  end
end
return {outcomes, claimed}
