-- throttle_acquire: take a permit of every limit that applies to a job a slot has just claimed,
-- or park the job. All limits are checked first and taken together, so no interleaving of
-- callers can exceed one (one script = one atomic step).
-- KEYS: none (keys are built from the ids below with K()).
-- ARGV[1]: now (unix float)   ARGV[2]: job id   ARGV[3]: execution id   ARGV[4]: lease seconds
-- ARGV[5]: queue   ARGV[6]: slot (worker) name   ARGV[7]: n limits
-- ARGV[8 ..]: 4 per limit: limit id, concurrency (0 = none), rate count (0 = none), window secs
-- Returns: {'ok'}: permits taken (holder member `<id>:<x>`, lease = now + lease seconds);
--   {'parked', i}: limit i (1-based) is full: the claim is undone (started-registry member,
--   execution, worker `current_job`), the job's status is `queued` again and its id is at the
--   end of that limit's waiting list, to be moved back to its queue head when a permit frees;
--   {'lost'}: the started-registry member was already gone (reaped, canceled, deleted): the
--   caller must not run the job and nothing was changed.
local now, id, x, lease = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local queue, worker, n = ARGV[5], ARGV[6], tonumber(ARGV[7])
local member = id .. ':' .. x
local limits = {}
for i = 1, n do
  local b = 7 + 4 * (i - 1)
  limits[i] = {id = ARGV[b + 1], conc = tonumber(ARGV[b + 2]), count = tonumber(ARGV[b + 3]),
    win = tonumber(ARGV[b + 4])}
end

local blocked
for i, l in ipairs(limits) do
  local free = throttle_free(l, now)
  if free <= 0 then
    blocked = i
    break
  end
end

if not blocked then
  for _, l in ipairs(limits) do
    if l.conc > 0 then
      local h = K('limit_holders', l.id)
      call('ZADD', h, now + lease, member)
      call('EXPIRE', h, lease + 60)
    end
    if l.count > 0 then
      local s = K('limit_starts', l.id)
      call('ZADD', s, now, member)
      call('EXPIRE', s, math.ceil(l.win) + 60)
    end
  end
  return {'ok'}
end

if call('ZREM', K('started', queue), member) == 0 then return {'lost'} end
call('DEL', K('execution', id, x))
call('ZREM', K('executions', id), x)
local jkey = K('job', id)
call('HSET', jkey, 'status', 'queued')
call('HDEL', jkey, 'started_at', 'worker_name')
call('RPUSH', K('limit_waiting', limits[blocked].id), id)
local wkey = K('worker', worker)
if call('HGET', wkey, 'current_job') == id then
  call('HDEL', wkey, 'current_job')
  call('HSET', wkey, 'state', 'idle', 'current_job_working_time', '0')
end
return {'parked', blocked}
