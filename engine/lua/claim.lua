-- claim: pop up to k jobs for k free slots and write RQ's "started" state for each (5.5 steps
-- 1-2 in one atomic step, so no id is ever left half-claimed in the intermediate list).
-- Used for idle slots (start, after a blocking wait); a slot that just finished a job claims
-- its next one inside finish.lua instead.
-- KEYS[1]: rq:suspended
-- KEYS[2]: with an id pre-popped into the intermediate list only: its
--          rq:queue:<q>:intermediate:first_seen:<id>
-- ARGV[1]: now (unix float)   ARGV[2]: now (RQ text)   ARGV[3]: lease seconds   ARGV[4]: nq
-- ARGV[5]: k   ARGV[6]: id already popped by a blocking wait, or ''
-- ARGV[7]: its queue index (1-based)
-- ARGV[8]: 'im' if that id sits in the intermediate list (BLMOVE), 'popped' if not (BLPOP)
-- ARGV[9 .. 8+nq]: queue names in priority order
-- ARGV[9+nq ..]: k pairs: slot name, fresh execution id
-- Returns: {'suspended'} (a pre-popped id is pushed back to its queue head), or
--          {'ok', slot, id, x, qi, data, timeout, result_ttl, deps, slot, id, ...} for each
--          claimed job (see claim_lib.lua).
local now_s, nowtxt, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local nq, k = tonumber(ARGV[4]), tonumber(ARGV[5])
local queues, workers, xs = {}, {}, {}
for i = 1, nq do queues[i] = ARGV[8 + i] end
for i = 1, k do workers[i], xs[i] = ARGV[7 + nq + 2 * i], ARGV[8 + nq + 2 * i] end

local suspended = call('EXISTS', KEYS[1]) == 1
local first = nil
if ARGV[6] ~= '' then
  local id, qi = ARGV[6], tonumber(ARGV[7])
  if ARGV[8] == 'im' then
    -- A reaper may have noted this id while it sat in the intermediate list for that instant;
    -- forget it so a later visit of the same id is not mistaken for a stuck one.
    call('DEL', KEYS[2])
    call('LREM', K('intermediate', queues[qi]), -1, id)
  end
  if suspended or k == 0 then
    call('LPUSH', K('queue', queues[qi]), id)
  else
    first = {id, qi}
  end
end
if suspended then return {'suspended'} end

local out = {'ok'}
for j = 0, claim_jobs(queues, workers, xs, first, now_s, nowtxt, lease, out) - 1 do
  -- Never re-create an expired worker hash partially: the heartbeat re-births it.
  local wkey = K('worker', workers[out[2 + 8 * j]])
  if call('EXISTS', wkey) == 1 then
    call('HSET', wkey, unpack(busy_fields({}, out[3 + 8 * j], nowtxt)))
  end
end
return out
