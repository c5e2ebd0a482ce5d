-- claim: pop up to k jobs for k free slots and write RQ's "started" state for each (5.5 steps
-- 1-2 in one atomic step, so no id is ever left half-claimed in the intermediate list).
-- Used for idle slots (start, after a blocking wait); a slot that just finished a job claims
-- its next one inside finish.lua instead.
-- KEYS[1]: rq:suspended
-- KEYS[2 .. 1+m]: rq:queue:<q>:intermediate:first_seen:<id> of each pre-popped id below
-- ARGV[1]: now (unix float)   ARGV[2]: now (RQ text)   ARGV[3]: lease seconds   ARGV[4]: nq
-- ARGV[5]: k   ARGV[6]: m, the number of ids a blocking wait moved into intermediate lists
-- ARGV[7 .. 6+2m]: m pairs: such an id, its queue index (1-based)
-- ARGV[7+2m .. 6+2m+nq]: queue names in priority order
-- ARGV[7+2m+nq ..]: k pairs: slot name, fresh execution id
-- Returns: {'suspended'} (pre-popped ids are pushed back to their queue heads), or
--          {'ok', slot, id, x, qi, data, timeout, result_ttl, deps, slot, id, ...} for each
--          claimed job (see claim_lib.lua).
local now_s, nowtxt, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local nq, k, m = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local b = 6 + 2 * m
local queues, workers, xs = {}, {}, {}
for i = 1, nq do queues[i] = ARGV[b + i] end
for i = 1, k do workers[i], xs[i] = ARGV[b + nq + 2 * i - 1], ARGV[b + nq + 2 * i] end

local suspended = call('EXISTS', KEYS[1]) == 1
-- pre[qi] = ids of queue qi, in pop order. An id is ours only if our LREM takes it out of the
-- intermediate list: a reaper that found it there past the grace period has already put it
-- back in its queue, and another worker may be running it.
local pre = {}
for j = 1, m do
  local id, qi = ARGV[5 + 2 * j], tonumber(ARGV[6 + 2 * j])
  -- A reaper may have noted this id while it sat in the intermediate list for that instant;
  -- forget it so a later visit of the same id is not mistaken for a stuck one.
  call('DEL', KEYS[1 + j])
  if call('LREM', K('intermediate', queues[qi]), -1, id) == 1 then
    if suspended then
      call('LPUSH', K('queue', queues[qi]), id)
    else
      local l = pre[qi] or {}
      pre[qi] = l
      l[#l + 1] = id
    end
  end
end
if suspended then return {'suspended'} end

local out = {'ok'}
for j = 0, claim_jobs(queues, workers, xs, pre, now_s, nowtxt, lease, out) - 1 do
  -- Never re-create an expired worker hash partially: the heartbeat re-births it.
  local wkey = K('worker', workers[out[2 + 9 * j]])
  if call('EXISTS', wkey) == 1 then
    call('HSET', wkey, unpack(busy_fields({}, out[3 + 9 * j], nowtxt)))
  end
end
return out
