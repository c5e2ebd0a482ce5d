-- claim: pop up to k jobs for k free slots and write RQ's "started" state for each (5.5 steps
-- 1-2 in one atomic step, so no id is ever left half-claimed in the intermediate list).
-- KEYS[1]: rq:suspended
-- KEYS[2 .. 1+3*nq]: per queue, in CLI order: rq:queue:<q>, rq:queue:<q>:intermediate, rq:wip:<q>
-- KEYS[2+3*nq .. 1+3*nq+k]: rq:worker:<slot> of each free slot
-- KEYS[2+3*nq+k]: with a pre-popped id only: its rq:queue:<q>:intermediate:first_seen:<id>
-- ARGV[1]: key templates (finish_lib)   ARGV[2]: now (unix float)   ARGV[3]: now (RQ text)
-- ARGV[4]: lease seconds   ARGV[5]: unused (worker key TTL; the heartbeat sets it)
-- ARGV[6]: nq   ARGV[7]: k
-- ARGV[8]: id already popped by a blocking wait, or ''   ARGV[9]: its queue index (1-based)
-- ARGV[10]: 'im' if that id sits in the intermediate list (BLMOVE), 'popped' if not (BLPOP)
-- ARGV[11 .. 10+k]: slot names   ARGV[11+k .. 10+2k]: fresh execution ids
-- Returns: {'suspended'} (a pre-popped id is pushed back to its queue head), or
--          {'ok', slot, id, x, qi, data, timeout, slot, id, ...} for each claimed job.
local now_s, nowtxt = ARGV[2], ARGV[3]
local now_i = math.floor(tonumber(now_s))
local lease = tonumber(ARGV[4])
local nq, k = tonumber(ARGV[6]), tonumber(ARGV[7])
local out = {'ok'}
local slot = 1

local function qkeys(qi)
  local b = 2 + 3 * (qi - 1)
  return KEYS[b], KEYS[b + 1], KEYS[b + 2]
end

local function start(id, qi, from_im)
  local qk, ik, wip = qkeys(qi)
  if from_im then redis.call('LREM', ik, -1, id) end
  local jkey = K('job', id)
  local got = redis.call('HMGET', jkey, 'data', 'timeout')
  -- RQ skips ids whose hash is gone; they must not cost a slot. (A hash without `data` is
  -- unreadable to every worker; it is dropped from the queue the same way.)
  if not got[1] then return end
  local worker, x = ARGV[10 + slot], ARGV[10 + k + slot]
  local wkey = KEYS[1 + 3 * nq + slot]
  local ekey = K('execution', id, x)
  redis.call('HSET', ekey, 'id', x, 'created_at', now_s, 'last_heartbeat', now_s,
    'worker_name', worker)
  redis.call('EXPIRE', ekey, lease)
  local xs = K('executions', id)
  redis.call('ZADD', xs, now_i + lease + 60, x)
  redis.call('EXPIRE', xs, lease + 60)
  redis.call('ZADD', wip, now_i + lease, id .. ':' .. x)
  -- The worker key's TTL is the heartbeat's business; no EXPIRE per job.
  redis.call('HSET', wkey, 'state', 'busy', 'current_job', id, 'current_job_working_time', '0',
    'last_heartbeat', nowtxt)
  redis.call('HSET', jkey, 'last_heartbeat', nowtxt, 'status', 'started', 'started_at', nowtxt,
    'worker_name', worker)
  redis.call('PERSIST', jkey)
  for _, v in ipairs({slot, id, x, qi, got[1], got[2] or ''}) do out[#out + 1] = v end
  slot = slot + 1
end

local suspended = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[8] ~= '' then
  local qi = tonumber(ARGV[9])
  local from_im = ARGV[10] == 'im'
  -- A reaper may have noted this id while it sat in the intermediate list for that instant;
  -- forget it so a later visit of the same id is not mistaken for a stuck one.
  if from_im then redis.call('DEL', KEYS[2 + 3 * nq + k]) end
  if suspended or k == 0 then
    local qk, ik = qkeys(qi)
    if from_im then redis.call('LREM', ik, -1, ARGV[8]) end
    redis.call('LPUSH', qk, ARGV[8])
  else
    start(ARGV[8], qi, from_im)
  end
end
if suspended then return {'suspended'} end

-- Bound the pops so a queue full of ids with missing hashes can't stall the server.
local budget = k + 1000
for qi = 1, nq do
  local qk = qkeys(qi)
  while slot <= k and budget > 0 do
    budget = budget - 1
    -- RQ's LMOVE into the intermediate list + LREM at start collapse to LPOP here: inside one
    -- script no client can observe the id in between, and a crash cannot split the two.
    local id = redis.call('LPOP', qk)
    if not id then break end
    start(id, qi, false)
  end
end
return out
